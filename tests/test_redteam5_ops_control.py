"""The control socket under a crowd: a real makerd, real clients on its Unix socket."""

from __future__ import annotations

import signal
import socket
import threading
from pathlib import Path

from makerd.daemon.control_client import ControlClientError, request
from makerd.daemon.control_socket import socket_path
from makerd.daemon.exit_codes import EXIT_OK
from tests.processes import MakerdProcess


def test_clients_queued_behind_a_silent_one_are_all_answered(tmp_path: Path) -> None:
    state = tmp_path / "state"
    makerd = MakerdProcess(["run", "--state-dir", str(state), "--metrics-port", "0"], cwd=tmp_path)
    makerd.wait_for("event=started")
    answers: list[object] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.connect(str(socket_path(state)))  # holds the desk for its 2 s read timeout

        def ask() -> None:
            try:
                answers.append(request(state, "status")["ok"])
            except ControlClientError as error:
                answers.append(str(error))

        # More honest clients than the socket's queue once held (8): the rest were
        # refused at once ("Resource temporarily unavailable") instead of waiting.
        clients = [threading.Thread(target=ask) for _ in range(20)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=15)
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text
    assert answers == [True] * 20, answers
