"""Hostile requests on the control socket must not end the operator's channel."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.daemon.control_client import request
from makerd.daemon.control_server import ControlServer


@pytest.fixture
def handled(tmp_path: Path) -> Iterator[list[str]]:
    """A control server on ``tmp_path`` for the test's length; the commands it handled."""
    commands: list[str] = []

    def handle(command: str, uid: int) -> dict[str, object]:
        commands.append(command)
        return {"ok": True, "command": command}

    server = ControlServer(tmp_path, handle)
    server.open()
    server.start()
    yield commands
    server.stop()


def test_a_deeply_nested_request_is_refused_and_the_next_command_is_still_answered(
    tmp_path: Path, handled: list[str]
) -> None:
    # Within the size bound, but deeper than the JSON decoder's recursion limit.
    refusal = _exchange(tmp_path / "control.sock", b"[" * 4000 + b"\n")
    answer = request(tmp_path, "status", timeout_s=3)

    assert refusal == b'{"ok": false, "error": "request is not JSON"}\n'
    assert answer == {"ok": True, "command": "status"}
    assert handled == ["status"]


def _exchange(path: Path, raw: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(5)
        connection.connect(str(path))
        connection.sendall(raw)
        return connection.recv(65536)
