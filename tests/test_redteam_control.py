"""Hostile requests on the control socket must not end the operator's channel."""

from __future__ import annotations

import socket
from pathlib import Path

from makerd.daemon.control_client import request
from makerd.daemon.control_server import ControlServer


def test_a_deeply_nested_request_is_refused_and_the_next_command_is_still_answered(
    tmp_path: Path,
) -> None:
    handled: list[str] = []

    def handle(command: str, uid: int) -> dict[str, object]:
        handled.append(command)
        return {"ok": True, "command": command}

    server = ControlServer(tmp_path, handle)
    server.open()
    server.start()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect(str(server.path))
            # Within the size bound, but deeper than the JSON decoder's recursion limit.
            connection.sendall(b"[" * 4000 + b"\n")
            refusal = connection.recv(65536)
        answer = request(tmp_path, "status", timeout_s=3)
    finally:
        server.stop()

    assert refusal == b'{"ok": false, "error": "request is not JSON"}\n'
    assert answer == {"ok": True, "command": "status"}
    assert handled == ["status"]
