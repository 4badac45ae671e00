"""The whole actor logic on the embedded sim, through the deterministic driver."""

from __future__ import annotations

from pathlib import Path

from config.model import MakerdConfig
from makerd.backtest import run_simulated


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
