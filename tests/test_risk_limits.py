"""Every limit, driven message by message: calm, then the soft action, then the hard one.

The soft action is reduce-only quoting (a ``RiskStateChanged`` naming the limit); the
hard action is the kill switch, latched on disk; after it nothing moves the guardian.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.config.loader import ConfigError, parse_config
from makerd.config.model import RiskConfig
from makerd.daemon.backtest import run_simulated
from makerd.daemon.latch import KillSwitchLatch
from makerd.protocol.account import FillBooked
from makerd.protocol.risk import (
    KillReason,
    KillSwitchTripped,
    MarginReported,
    RiskLimit,
    RiskStateChanged,
    TradingState,
)
from makerd.protocol.side import Side
from tests.kit import T0, d, fill, of_type, position
from tests.test_observer_control_metrics import observed, value
from tests.test_risk_price_band import in_a_crash

LOOSE = RiskConfig(
    max_drawdown_usd=Decimal(10_000),
    session_loss_usd=Decimal(10_000),
    daily_loss_usd=Decimal(10_000),
)
"""Loss limits far away, so only the limit under test acts."""


def margin(used: str, value: str = "1000") -> MarginReported:
    return MarginReported(account_value=d(value), margin_used=d(used), ts_exchange=T0, ts_local=T0)


def losing_round_trip(n: int) -> list[FillBooked]:
    opened = fill(f"o{n}", Side.BUY, "100", "1")
    closed = fill(f"c{n}", Side.SELL, "99", "1")
    return [
        FillBooked(fill=opened, position_after=d(1), realized_pnl=d(0), ts_local=T0),
        FillBooked(fill=closed, position_after=d(0), realized_pnl=d(-1), ts_local=T0),
    ]


@dataclass(frozen=True)
class Case:
    limit: RiskLimit
    kill: KillReason
    config: RiskConfig
    calm: Callable[[], Sequence[object]]
    soft: Callable[[], Sequence[object]]
    hard: Callable[[], Sequence[object]]
    flatten: bool = False


CASES = [
    Case(
        RiskLimit.POSITION,
        KillReason.MAX_POSITION,
        RiskConfig(max_position=d("0.05"), reduce_only_at=d("0.8")),
        calm=lambda: [position("0.01")],
        soft=lambda: [position("0.04")],
        hard=lambda: [position("-0.06")],
    ),
    Case(
        RiskLimit.POSITION_NOTIONAL,
        KillReason.MAX_POSITION,
        RiskConfig(max_position=d(1), max_position_usd=d(1000), reduce_only_at=d("0.8")),
        calm=lambda: [position("0.01")],  # 600 USD at 60000
        soft=lambda: [position("0.015")],  # 900 USD
        hard=lambda: [position("0.02")],  # 1200 USD
    ),
    Case(
        RiskLimit.DRAWDOWN,
        KillReason.MAX_DRAWDOWN,
        dataclasses.replace(LOOSE, max_drawdown_usd=d(100)),
        calm=lambda: [position("0", realized="80")],  # the peak
        soft=lambda: [position("0", realized="-5")],  # 85 below it
        hard=lambda: [position("0", realized="-25")],  # 105 below it
    ),
    Case(
        RiskLimit.SESSION_LOSS,
        KillReason.SESSION_LOSS,
        dataclasses.replace(LOOSE, session_loss_usd=d(50)),
        calm=lambda: [position("0", realized="-10")],
        soft=lambda: [position("0", realized="-41")],
        hard=lambda: [position("0", realized="-40", fees="11")],
    ),
    Case(
        RiskLimit.DAILY_LOSS,
        KillReason.DAILY_LOSS,
        dataclasses.replace(LOOSE, daily_loss_usd=d(50)),
        calm=lambda: [position("0", realized="-10")],
        soft=lambda: [position("0", realized="-41")],
        hard=lambda: [position("0", realized="-51")],
    ),
    Case(
        RiskLimit.LOSS_STREAK,
        KillReason.LOSS_STREAK,
        RiskConfig(max_losing_round_trips=3),
        calm=lambda: losing_round_trip(1),
        soft=lambda: losing_round_trip(2),
        hard=lambda: losing_round_trip(3),
    ),
    Case(
        RiskLimit.MARGIN_RATIO,
        KillReason.MARGIN_RATIO,
        RiskConfig(margin_soft_at=d("0.7"), margin_hard_at=d("0.9")),
        calm=lambda: [margin("500")],
        soft=lambda: [margin("700")],
        hard=lambda: [margin("910")],
    ),
    Case(
        RiskLimit.UNREALIZED_LOSS,
        KillReason.UNREALIZED_LOSS,
        dataclasses.replace(LOOSE, max_unrealized_loss_usd=d(100)),
        calm=lambda: [position("0.01", unrealized="-20")],
        soft=lambda: [position("0.01", unrealized="-85")],
        hard=lambda: [position("0.01", unrealized="-101")],
        flatten=True,  # whatever flatten_on_kill says: closing the position is the point
    ),
]


def feed(risk: RiskGuardianLogic, messages: Sequence[object]) -> list[object]:
    return [out for message in messages for out in risk.handle(message)]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.limit.value)
def test_each_limit_goes_calm_then_reduce_only_then_kill_switch_and_stays_there(
    tmp_path: Path, case: Case
) -> None:
    latch = KillSwitchLatch(tmp_path)
    risk = RiskGuardianLogic(config=case.config, latch=latch)

    calm = feed(risk, case.calm())
    soft = feed(risk, case.soft())
    hard = feed(risk, case.hard())
    after = feed(risk, case.calm())

    assert of_type(calm, RiskStateChanged) == []
    assert of_type(calm, KillSwitchTripped) == []
    [reduce_only] = of_type(soft, RiskStateChanged)
    assert reduce_only.state is TradingState.REDUCE_ONLY
    assert reduce_only.limits == (case.limit,)
    assert of_type(soft, KillSwitchTripped) == []
    [tripped] = of_type(hard, KillSwitchTripped)
    assert tripped.reason is case.kill
    assert tripped.flatten is case.flatten
    assert of_type(hard, RiskStateChanged)[0].state is TradingState.HALTED
    latched = KillSwitchLatch(tmp_path).read()
    assert latched is not None, "the trip is on disk for the next process"
    assert latched.reason == case.kill.value
    assert after == [], "once tripped, calm figures change nothing"
    assert risk.state is TradingState.HALTED


def test_margin_falling_back_below_the_soft_limit_returns_to_normal_quoting(
    tmp_path: Path,
) -> None:
    risk = RiskGuardianLogic(config=RiskConfig(), latch=KillSwitchLatch(tmp_path))

    near = risk.handle(margin("750"))
    back = risk.handle(margin("300"))

    assert of_type(near, RiskStateChanged)[0].state is TradingState.REDUCE_ONLY
    assert of_type(back, RiskStateChanged)[0].state is TradingState.NORMAL
    assert KillSwitchLatch(tmp_path).read() is None


def test_an_account_worth_nothing_with_margin_in_use_trips_the_margin_limit(
    tmp_path: Path,
) -> None:
    risk = RiskGuardianLogic(config=RiskConfig(), latch=KillSwitchLatch(tmp_path))

    out = risk.handle(margin("10", value="-5"))

    assert of_type(out, KillSwitchTripped)[0].reason is KillReason.MARGIN_RATIO


def test_a_disabled_unrealized_loss_limit_never_acts(tmp_path: Path) -> None:
    risk = RiskGuardianLogic(
        config=LOOSE,
        latch=KillSwitchLatch(tmp_path),
    )

    out = risk.handle(position("0.01", unrealized="-5000"))

    assert of_type(out, KillSwitchTripped) == []


def test_soft_actions_and_margin_use_show_in_the_metrics() -> None:
    pause = RiskStateChanged(
        state=TradingState.HALTED, reason="band", limits=(RiskLimit.PRICE_BAND,), ts_local=T0
    )
    near = RiskStateChanged(
        state=TradingState.REDUCE_ONLY,
        reason="margin",
        limits=(RiskLimit.MARGIN_RATIO, RiskLimit.DAILY_LOSS),
        ts_local=T0,
    )

    registry = observed(pause, near, margin("250"))

    assert value(registry, "makerd_risk_soft_actions_total", limit="price_band") == 1
    assert value(registry, "makerd_risk_soft_actions_total", limit="margin_ratio") == 1
    assert value(registry, "makerd_risk_soft_actions_total", limit="daily_loss") == 1
    assert value(registry, "makerd_risk_soft_actions_total", limit="drawdown") == 0
    assert value(registry, "makerd_margin_use_ratio") == 0.25


@pytest.mark.parametrize(
    ("risk", "problem"),
    [
        (
            {"margin_soft_at": 0.9, "margin_hard_at": 0.9},
            "risk.margin_soft_at: must be below risk.margin_hard_at (0.9), got 0.9",
        ),
        ({"margin_hard_at": 1.5}, "risk.margin_hard_at: must be a fraction in (0, 1]"),
        ({"price_band_pct": 100}, "risk.price_band_pct: must be within [0, 100)"),
        ({"max_unrealized_loss_usd": -1}, "risk.max_unrealized_loss_usd: must be from 0 to"),
        ({"margin_poll_s": 0}, "risk.margin_poll_s: must be greater than 0"),
    ],
)
def test_a_limit_that_cannot_work_is_refused_naming_the_field(
    risk: dict[str, object], problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"risk": risk}, source="test.yaml")

    assert any(line.startswith(problem) for line in caught.value.problems), caught.value.problems


def test_in_the_sim_an_unrealized_loss_flattens_at_the_venue_without_flatten_on_kill(
    tmp_path: Path,
) -> None:
    limits = dataclasses.replace(LOOSE, max_unrealized_loss_usd=d("0.5"), flatten_on_kill=False)
    config = in_a_crash(limits)

    result = run_simulated(config, seconds=120, state_dir=tmp_path)

    latched = KillSwitchLatch(tmp_path).read()
    assert latched is not None
    assert latched.reason == "unrealized_loss"
    assert result.venue_position == 0, "closed at the venue"
    assert result.tracked_position == 0, "and booked"
    assert result.counters.places_after_halt == 1, "one reduce-only IOC, nothing else"
