"""The guardian judges its limits again only when their inputs change, and judges them
exactly as a fresh reading of every limit would, message after message; the UTC day its
daily loss belongs to is named as the plain date conversion names it."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from makerd.actors.risk_account import utc_day
from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.actors.risk_limits import judge, readings
from makerd.config.model import OrderManagerConfig, QuotingConfig, RiskConfig
from makerd.daemon.latch import KillSwitchLatch
from makerd.protocol.account import FillBooked, PositionChanged
from makerd.protocol.control import ParametersChanged, TimerFired
from makerd.protocol.risk import MarginReported, RiskStateChanged, TradingState
from makerd.protocol.side import Side
from tests.kit import MS, T0, d, fill, position

CONFIG = RiskConfig(
    max_position=d("0.05"),
    max_position_usd=d(2500),
    max_unrealized_loss_usd=d(40),
    max_drawdown_usd=d(60),
    session_loss_usd=d(80),
    daily_loss_usd=d(90),
    max_losing_round_trips=6,
)


def _message(rng: random.Random, ts: int, config: RiskConfig) -> object:
    kind = rng.choice(("position", "fill", "margin", "timer", "timer", "timer", "parameters"))
    if kind == "position":
        pos = Decimal(rng.randint(-60, 60)) / 1000
        pnl = Decimal(rng.randint(-9000, 9000)) / 100
        return dataclasses.replace(position(str(pos), realized=str(pnl), ts=ts), mark=d(50_000))
    if kind == "fill":
        side = rng.choice((Side.BUY, Side.SELL))
        traded = fill(f"t{ts}", side, "50000", "0.01", fee="0.01", ts=ts)
        after = Decimal(rng.randint(-2, 2)) / 100
        realized = Decimal(rng.randint(-300, 200)) / 100
        return FillBooked(fill=traded, position_after=after, realized_pnl=realized, ts_local=ts)
    if kind == "margin":
        used = Decimal(rng.randint(0, 95))
        return MarginReported(account_value=d(100), margin_used=used, ts_exchange=ts, ts_local=ts)
    if kind == "parameters":
        risk = dataclasses.replace(config, max_position=Decimal(rng.randint(3, 8)) / 100)
        return ParametersChanged(
            quoting=QuotingConfig(), order_manager=OrderManagerConfig(), risk=risk, ts_local=ts
        )
    return TimerFired(ts_local=ts)


def test_the_remembered_verdict_equals_a_fresh_reading_of_every_limit(tmp_path: Path) -> None:
    for seed in range(40):
        latch_dir = tmp_path / str(seed)
        latch_dir.mkdir()
        guardian = RiskGuardianLogic(config=CONFIG, latch=KillSwitchLatch(latch_dir))
        rng = random.Random(seed)
        config, last_position, last_margin = CONFIG, None, None
        states: list[TradingState] = []
        for step in range(120):
            message = _message(rng, T0 + step * 100 * MS, config)
            if isinstance(message, ParametersChanged):
                config = message.risk
            if isinstance(message, PositionChanged):
                last_position = message
            if isinstance(message, MarginReported):
                last_margin = message
            out = guardian.handle(message)
            states.extend(m.state for m in out if isinstance(m, RiskStateChanged))
            fresh = judge(readings(config, guardian.account, last_position, last_margin))
            assert guardian.verdict() == fresh, f"seed {seed}, step {step}: {message}"
        assert states, f"seed {seed}: the sequence never moved the guardian, a weak check"
    assert TradingState.REDUCE_ONLY in states or TradingState.HALTED in states


def test_the_utc_day_is_named_as_the_plain_date_conversion_names_it() -> None:
    rng = random.Random(3)
    day_ns = 86_400 * 1_000_000_000
    instants = [rng.randrange(0, 4_000_000_000 * 1_000_000_000) for _ in range(3000)]
    # Each side of midnight, to the nanosecond.
    instants += [n * day_ns + offset for n in (0, 1, 19_700, 20_000) for offset in (-1, 0, 1)]
    for ts in (instant for instant in instants if instant >= 0):
        plain = datetime.fromtimestamp(ts // 1_000_000_000, tz=UTC).strftime("%Y-%m-%d")
        assert utc_day(ts) == plain, ts
