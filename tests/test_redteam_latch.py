"""A kill switch whose latch cannot be written (the state directory refuses it) must still
stop this run: failing to remember the trip is no reason to keep trading now."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.actors.gate import TradingGate
from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.config.model import RiskConfig
from makerd.daemon.latch import KillSwitchLatch
from makerd.protocol.risk import KillReason, KillSwitchTripped, RiskStateChanged, TradingState
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
