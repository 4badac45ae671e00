"""What a restart keeps: the risk state in the real journal, read by a new guardian.

Persisted: the equity high-water mark, the UTC day's PnL, the loss streak and the last
trip (and the kill-switch latch, a file of its own). Not persisted, by design: the
session's PnL (a session is one process), the position, margin and unrealized PnL (the
venue's truth, asked again at start) and a price band pause (the market has moved on).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.config.model import RiskConfig
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.protocol.account import FillBooked
from makerd.protocol.risk import (
    KillReason,
    KillSwitchTripped,
    RiskLimit,
    RiskStateChanged,
    TradingState,
)
from makerd.protocol.side import Side
from tests.kit import T0, d, fill, of_type, position

LOOSE = RiskConfig(max_drawdown_usd=Decimal(10_000), daily_loss_usd=Decimal(10_000))


def losing_round_trip(risk: RiskGuardianLogic, n: int) -> list[object]:
    opened = fill(f"o{n}", Side.BUY, "100", "1")
    closed = fill(f"c{n}", Side.SELL, "99", "1")
    risk.handle(FillBooked(fill=opened, position_after=d(1), realized_pnl=d(0), ts_local=T0))
    return risk.handle(
        FillBooked(fill=closed, position_after=d(0), realized_pnl=d(-1), ts_local=T0)
    )


def guardian(tmp_path: Path, journal: Journal, config: RiskConfig) -> RiskGuardianLogic:
    return RiskGuardianLogic(config=config, latch=KillSwitchLatch(tmp_path), store=journal)


def test_a_loss_streak_continues_across_a_restart(tmp_path: Path) -> None:
    limits = RiskConfig(max_losing_round_trips=3)
    with Journal(tmp_path / "journal.sqlite") as journal:
        first = guardian(tmp_path, journal, limits)
        losing_round_trip(first, 1)
        soft = losing_round_trip(first, 2)
        second = guardian(tmp_path, journal, limits)
        carried = second.handle(position("0"))
        hard = losing_round_trip(second, 3)

    assert of_type(soft, RiskStateChanged)[0].limits == (RiskLimit.LOSS_STREAK,)
    assert of_type(carried, RiskStateChanged)[0].state is TradingState.REDUCE_ONLY
    assert of_type(hard, KillSwitchTripped)[0].reason is KillReason.LOSS_STREAK


def test_a_winning_round_trip_resets_the_streak_for_the_next_process_too(tmp_path: Path) -> None:
    limits = RiskConfig(max_losing_round_trips=2)
    with Journal(tmp_path / "journal.sqlite") as journal:
        first = guardian(tmp_path, journal, limits)
        losing_round_trip(first, 1)
        opened = fill("o2", Side.BUY, "100", "1")
        closed = fill("c2", Side.SELL, "102", "1")
        first.handle(FillBooked(fill=opened, position_after=d(1), realized_pnl=d(0), ts_local=T0))
        first.handle(FillBooked(fill=closed, position_after=d(0), realized_pnl=d(2), ts_local=T0))
        second = guardian(tmp_path, journal, limits)
        out = losing_round_trip(second, 3)

    assert of_type(out, KillSwitchTripped) == [], "one losing round trip since the win"


def test_the_last_trip_is_in_the_journal_for_the_next_process(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite") as journal:
        first = guardian(tmp_path, journal, dataclasses.replace(LOOSE, session_loss_usd=d(50)))
        first.handle(position("0", realized="-60", ts=T0 + 7))
        persisted = journal.load_risk_state()

    assert persisted is not None
    assert (persisted.last_trip_reason, persisted.last_trip_ns) == ("session_loss", T0 + 7)
    assert KillSwitchLatch(tmp_path).read() is not None


def test_each_process_gets_a_fresh_session_budget_but_not_a_fresh_day(tmp_path: Path) -> None:
    limits = RiskConfig(session_loss_usd=d(50), daily_loss_usd=d(100), max_drawdown_usd=d(1000))
    with Journal(tmp_path / "journal.sqlite") as journal:
        first = guardian(tmp_path, journal, limits)
        first.handle(position("0", realized="-45"))
        second = guardian(tmp_path, journal, limits)
        fresh_session = second.handle(position("0", realized="-45"))  # day: -90
        third = guardian(tmp_path, journal, limits)
        day_spent = third.handle(position("0", realized="-11"))  # day: -101

    assert of_type(fresh_session, KillSwitchTripped) == [], "45 of this session's 50"
    assert of_type(day_spent, KillSwitchTripped)[0].reason is KillReason.DAILY_LOSS
