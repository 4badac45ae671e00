"""The whole actor logic on the embedded sim, through the deterministic driver."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

from makerd.config.model import MakerdConfig
from makerd.daemon.backtest import run_simulated
from makerd.daemon.latch import KillSwitchLatch


def test_a_minute_of_calm_market_produces_fills_booked_exactly_as_the_venue_saw_them(
    tmp_path: Path,
) -> None:
    result = run_simulated(MakerdConfig(), seconds=60, state_dir=tmp_path)

    assert result.counters.fills > 0
    assert result.summary.fills == result.counters.fills
    assert result.tracked_position == result.venue_position
    assert result.summary.final_position == result.venue_position


def test_the_same_config_gives_the_same_session(tmp_path: Path) -> None:
    first = run_simulated(MakerdConfig(), seconds=30, state_dir=tmp_path / "a")
    second = run_simulated(MakerdConfig(), seconds=30, state_dir=tmp_path / "b")

    assert first.summary.fills == second.summary.fills
    assert first.summary.realized_pnl_usd == second.summary.realized_pnl_usd
    assert first.counters == second.counters


def test_a_kill_switch_in_the_driver_halts_quoting_and_latches(tmp_path: Path) -> None:
    base = MakerdConfig()
    config = dataclasses.replace(
        base, risk=dataclasses.replace(base.risk, session_loss_usd=Decimal("0.01"))
    )

    result = run_simulated(config, seconds=60, state_dir=tmp_path)

    latched = KillSwitchLatch(tmp_path).read()
    assert latched is not None
    assert latched.reason == "session_loss"
    assert result.counters.fills >= 1
    assert result.counters.halted
    assert result.counters.places_after_halt == 0, "no new order after the trip"
    assert result.venue_open_orders == 0, "tripping cancelled every resting order"


def test_a_kill_switch_with_flatten_closes_the_position_with_reduce_only_orders(
    tmp_path: Path,
) -> None:
    base = MakerdConfig()
    config = dataclasses.replace(
        base,
        risk=dataclasses.replace(base.risk, session_loss_usd=Decimal("0.01"), flatten_on_kill=True),
    )

    result = run_simulated(config, seconds=30, state_dir=tmp_path)

    assert result.counters.halted
    assert result.venue_position == 0, "flattened at the venue"
    assert result.tracked_position == 0, "and booked"
    assert result.counters.places_after_halt == 1, "one reduce-only IOC, nothing else"
