"""A start step that fails: one line, no traceback, exit 1. A metrics port already taken
is found before the exchange is asked anything and before a session row; a step that fails
once the session has begun closes every opened part and ends the session in the journal
with the failure as its reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_FAILURE
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.processes import MakerdProcess
from tests.start_failure_kit import (
    held_port,
    journal_refusing_equity,
    last_session_end,
    printed_traceback,
    requests_received,
    session_rows,
)


def test_a_metrics_port_already_taken_refuses_the_start_before_a_session_row(
    tmp_path: Path,
) -> None:
    # Under systemd's Restart= each retry would otherwise leave a session that never traded.
    state = tmp_path / "state"
    with held_port() as port:
        makerd = MakerdProcess(
            ["run", "--state-dir", str(state), "--metrics-port", str(port), "--duration", "30"],
            cwd=tmp_path,
        )
        code = makerd.finish()

    assert code == EXIT_FAILURE, makerd.text
    said = f"makerd: start failed at metrics: cannot serve metrics on 127.0.0.1:{port}"
    assert said in makerd.text
    assert not printed_traceback(makerd.text), makerd.text
    assert session_rows(state) == 0


def test_a_metrics_port_already_taken_refuses_before_the_exchange_is_asked_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAKERD_PRIVATE_KEY", raising=False)  # paper mode needs no key
    venue = VenueThread(VenueConfig(port=0, seed=31))
    url = venue.start()
    try:
        with held_port() as port:
            makerd = MakerdProcess(
                [
                    *("run", "--mode", "paper", "--api-url", url),
                    *("--state-dir", str(tmp_path / "state"), "--metrics-port", str(port)),
                ],
                cwd=tmp_path,
            )
            code = makerd.finish()
        asked = requests_received(url)
    finally:
        venue.stop()

    assert code == EXIT_FAILURE, makerd.text
    assert f"cannot serve metrics on 127.0.0.1:{port}" in makerd.text
    assert asked == [], "the exchange was asked before the port was found taken"
    assert session_rows(tmp_path / "state") == 0


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
