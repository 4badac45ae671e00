"""A start step that fails once the session has begun (after the venue was built and the
session journaled): one line, no traceback, every opened part closed, the session ended
in the journal with the failure as its reason, exit 1."""

from __future__ import annotations

import socket
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_FAILURE
from tests.processes import MakerdProcess
from tests.start_failure_kit import journal_refusing_equity, last_session_end, printed_traceback


def test_a_metrics_port_already_taken_ends_the_session_with_that_reason(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        makerd = MakerdProcess(
            ["run", "--state-dir", str(state), "--metrics-port", str(port), "--duration", "30"],
            cwd=tmp_path,
        )
        code = makerd.finish()

    ended, stopped = last_session_end(state)
    assert code == EXIT_FAILURE, makerd.text
    said = f"makerd: start failed at metrics: cannot serve metrics on 127.0.0.1:{port}"
    assert said in makerd.text
    assert not printed_traceback(makerd.text), makerd.text
    assert ended, "the session was left open in the journal"
    assert stopped is not None
    assert f"reason=start failed at metrics: cannot serve metrics on 127.0.0.1:{port}" in stopped


def test_an_actor_that_cannot_start_closes_the_control_socket_and_ends_the_session(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    journal_refusing_equity(state)

    makerd = MakerdProcess(
        ["run", "--state-dir", str(state), "--metrics-port", "0", "--duration", "30"],
        cwd=tmp_path,
    )
    code = makerd.finish()

    ended, stopped = last_session_end(state)
    assert code == EXIT_FAILURE, makerd.text
    assert "makerd: start failed at actors: child 'fill_tracker' failed to start" in makerd.text
    assert not printed_traceback(makerd.text), makerd.text
    assert not (state / "control.sock").exists(), "the control socket was left behind"
    assert "makerd: venue confirms 0 open orders" in makerd.text, "the venue was not swept"
    assert ended, "the session was left open in the journal"
    assert stopped is not None
    assert "reason=start failed at actors" in stopped
