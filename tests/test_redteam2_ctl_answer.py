"""``makerd ctl`` given an answer it cannot read says so in one line and exits 1.

The answer comes from a socket of the operator's own uid, 0600 in a 0700 directory (the
client accepts nothing else), served by the test: what a broken or hostile makerd could
send."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.daemon.control_socket import SOCKET_NAME, bindable
from makerd.daemon.exit_codes import EXIT_FAILURE
from tests.ctl_kit import ctl

NESTED_PAST_THE_DECODER = b'{"ok": ' + b"[" * 4000 + b"\n"


@pytest.fixture
def answering(tmp_path: Path) -> Iterator[Path]:
    """A state directory whose control socket answers NESTED_PAST_THE_DECODER once."""
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    path = state / SOCKET_NAME
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        with bindable(path) as address:
            listener.bind(address)
        path.chmod(0o600)
        listener.listen(1)
        listener.settimeout(20)
        served = threading.Thread(target=_answer_once, args=(listener,), daemon=True)
        served.start()
        yield state
        served.join(timeout=20)


def _answer_once(listener: socket.socket) -> None:
    connection, _ = listener.accept()
    with connection:
        connection.settimeout(5)
        connection.recv(4096)
        connection.sendall(NESTED_PAST_THE_DECODER)


def test_an_answer_nested_past_the_decoders_limit_is_a_clear_error_and_exit_1(
    answering: Path,
) -> None:
    result = ctl(answering, "status")

    assert result.code == EXIT_FAILURE, result.stderr
    assert "Traceback" not in result.stderr
    assert "makerd: makerd answered something that is not JSON" in result.stderr
