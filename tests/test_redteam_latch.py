"""The latch fails closed, and says so plainly: a kill switch whose latch cannot be written
still stops this run; a latch file no makerd of this version wrote reads as latched and
can be shown and cleared; one that cannot be removed stays latched, with the reason."""

from __future__ import annotations

import json
import logging
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.actors.gate import TradingGate
from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.config.model import RiskConfig
from makerd.daemon.exit_codes import EXIT_FAILURE, EXIT_OK
from makerd.daemon.latch import KillSwitchLatch
from makerd.protocol.risk import KillReason, KillSwitchTripped, RiskStateChanged, TradingState
from tests.ctl_kit import makerd_cli
from tests.kit import of_type, position


def test_a_kill_switch_trips_and_closes_the_gate_when_its_latch_cannot_be_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The state directory's place is taken by a regular file: every write under it fails.
    taken = tmp_path / "state"
    taken.write_text("")
    latch = KillSwitchLatch(taken / "deeper")
    gate = TradingGate()
    risk = RiskGuardianLogic(
        config=RiskConfig(max_position=Decimal("0.05")), latch=latch, gate=gate
    )

    with caplog.at_level(logging.ERROR, logger="makerd.risk"):
        out = risk.handle(position("-0.06"))

    assert of_type(out, KillSwitchTripped)[0].reason is KillReason.MAX_POSITION
    assert of_type(out, RiskStateChanged)[0].state is TradingState.HALTED
    assert gate.closed
    assert "event=kill_switch_not_latched" in caplog.text


def test_a_latch_stamped_beyond_any_date_is_shown_latched_and_cleared_with_a_journal_row(
    tmp_path: Path,
) -> None:
    # As a later version might write it (a time in other units, or garbage): not our shape.
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    payload = {"reason": "max_drawdown", "detail": "lost 300 USD", "tripped_at_ns": 10**30}
    (state / "kill_switch.json").write_text(json.dumps(payload))
    where = ("--state-dir", str(state))

    status = makerd_cli("kill-switch", "status", *where)
    cleared = makerd_cli("kill-switch", "clear", *where)

    assert status.returncode == EXIT_OK, status.stderr
    assert "kill switch LATCHED" in status.stdout
    assert "reason=corrupt_latch" in status.stdout
    assert "'tripped_at_ns'" in status.stdout
    assert cleared.returncode == EXIT_OK, cleared.stderr
    assert "Traceback" not in status.stderr + cleared.stderr
    assert not (state / "kill_switch.json").exists()
    with sqlite3.connect(state / "journal.sqlite") as db:
        rows = db.execute("SELECT action, reason FROM kill_switch_events").fetchall()
    assert rows == [("clear", "corrupt_latch")]


def test_a_latch_that_cannot_be_removed_stays_latched_and_clear_says_why(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "kill_switch.json").mkdir(parents=True)  # a directory: unlink refuses it
    state.chmod(0o700)

    cleared = makerd_cli("kill-switch", "clear", "--state-dir", str(state))

    assert cleared.returncode == EXIT_FAILURE
    assert "Traceback" not in cleared.stderr
    assert "makerd: not cleared: cannot remove" in cleared.stderr
    assert KillSwitchLatch(state).is_tripped
