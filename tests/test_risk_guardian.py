"""risk_guardian moves NORMAL → REDUCE_ONLY → HALTED and latches the kill switch on disk."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.config.model import OrderManagerConfig, QuotingConfig, RiskConfig
from makerd.daemon.latch import KillSwitchLatch
from makerd.protocol.account import FillBooked
from makerd.protocol.control import ParametersChanged, TimerFired
from makerd.protocol.market import FeedRecovered, FeedStale
from makerd.protocol.orders import OrderRejected
from makerd.protocol.rejections import RejectReason
from makerd.protocol.risk import KillReason, KillSwitchTripped, RiskStateChanged, TradingState
from makerd.protocol.side import Side
from tests.kit import T0, S, d, fill, of_type, position


def guardian(tmp_path: Path, **limits: object) -> tuple[RiskGuardianLogic, KillSwitchLatch]:
    latch = KillSwitchLatch(tmp_path)
    config = RiskConfig(**limits)  # type: ignore[arg-type]
    return RiskGuardianLogic(config=config, latch=latch), latch


def test_a_position_near_the_limit_switches_to_reduce_only_and_back(tmp_path: Path) -> None:
    risk, _ = guardian(tmp_path, max_position=Decimal("0.05"), reduce_only_at=Decimal("0.8"))

    near = risk.handle(position("0.04"))
    back = risk.handle(position("0.01"))

    assert of_type(near, RiskStateChanged)[0].state is TradingState.REDUCE_ONLY
    assert of_type(back, RiskStateChanged)[0].state is TradingState.NORMAL


def test_a_drawdown_past_the_limit_trips_and_latches_the_kill_switch(tmp_path: Path) -> None:
    risk, latch = guardian(tmp_path, max_drawdown_usd=Decimal(100), session_loss_usd=Decimal(1000))
    risk.handle(position("0", realized="80"))  # peak +80

    out = risk.handle(position("0", realized="-25"))  # 105 below the peak

    tripped = of_type(out, KillSwitchTripped)
    assert tripped
    assert tripped[0].reason is KillReason.MAX_DRAWDOWN
    assert of_type(out, RiskStateChanged)[0].state is TradingState.HALTED
    latched = latch.read()
    assert latched is not None
    assert latched.reason == "max_drawdown"


def test_the_latch_survives_a_new_guardian(tmp_path: Path) -> None:
    risk, _ = guardian(tmp_path, session_loss_usd=Decimal(50))
    risk.handle(position("0", realized="-60"))

    assert KillSwitchLatch(tmp_path).read() is not None, "a new process sees the trip"


def test_a_session_loss_counts_fees(tmp_path: Path) -> None:
    risk, _ = guardian(tmp_path, session_loss_usd=Decimal(50), max_drawdown_usd=Decimal(1000))

    out = risk.handle(position("0", realized="-40", fees="11"))

    assert of_type(out, KillSwitchTripped)[0].reason is KillReason.SESSION_LOSS


def test_a_position_beyond_the_maximum_trips_immediately(tmp_path: Path) -> None:
    risk, _ = guardian(tmp_path, max_position=Decimal("0.05"))

    out = risk.handle(position("-0.06"))

    assert of_type(out, KillSwitchTripped)[0].reason is KillReason.MAX_POSITION


def test_a_feed_stale_past_the_hard_limit_trips_but_a_recovery_in_time_does_not(
    tmp_path: Path,
) -> None:
    risk, _ = guardian(tmp_path, stale_feed_halt_s=30.0)
    risk.handle(FeedStale(coin="BTC", silent_for_ns=5 * S, ts_exchange=T0, ts_local=T0 + 5 * S))
    risk.handle(FeedRecovered(coin="BTC", ts_exchange=T0, ts_local=T0 + 10 * S))
    assert of_type(risk.handle(TimerFired(ts_local=T0 + 60 * S)), KillSwitchTripped) == []

    risk.handle(FeedStale(coin="BTC", silent_for_ns=5 * S, ts_exchange=T0, ts_local=T0 + 65 * S))
    out = risk.handle(TimerFired(ts_local=T0 + 91 * S))

    assert of_type(out, KillSwitchTripped)[0].reason is KillReason.STALE_FEED


def test_consecutive_losing_round_trips_trip_the_loss_streak(tmp_path: Path) -> None:
    risk, _ = guardian(tmp_path, max_losing_round_trips=2)

    def round_trip(n: int) -> list[object]:
        opened = fill(f"o{n}", Side.BUY, "100", "1")
        closed = fill(f"c{n}", Side.SELL, "99", "1")
        risk.handle(FillBooked(fill=opened, position_after=d(1), realized_pnl=d(0), ts_local=T0))
        return risk.handle(
            FillBooked(fill=closed, position_after=d(0), realized_pnl=d(-1), ts_local=T0)
        )

    assert of_type(round_trip(1), KillSwitchTripped) == []
    assert of_type(round_trip(2), KillSwitchTripped)[0].reason is KillReason.LOSS_STREAK


def test_once_halted_it_stays_halted(tmp_path: Path) -> None:
    risk, _ = guardian(tmp_path, session_loss_usd=Decimal(10))
    risk.handle(position("0", realized="-20"))

    out = risk.handle(position("0", realized="5"))

    assert out == []
    assert risk.state is TradingState.HALTED


def test_a_daily_loss_spent_before_a_restart_still_counts_after_it(tmp_path: Path) -> None:
    from makerd.daemon.journal import Journal

    limits = RiskConfig(daily_loss_usd=Decimal(50), session_loss_usd=Decimal(1000))
    with Journal(tmp_path / "journal.sqlite") as journal:
        first = RiskGuardianLogic(config=limits, latch=KillSwitchLatch(tmp_path), store=journal)
        soft = first.handle(position("0", realized="-42"))  # past 80% of the day's budget
        second = RiskGuardianLogic(config=limits, latch=KillSwitchLatch(tmp_path), store=journal)
        out = second.handle(position("0", realized="-9"))  # a new session: 42 + 9 > 50

    assert of_type(soft, RiskStateChanged)[0].state is TradingState.REDUCE_ONLY
    assert of_type(out, KillSwitchTripped)[0].reason is KillReason.DAILY_LOSS


def test_the_drawdown_runs_from_the_peak_of_an_earlier_process(tmp_path: Path) -> None:
    from makerd.daemon.journal import Journal

    limits = RiskConfig(max_drawdown_usd=Decimal(100), session_loss_usd=Decimal(1000))
    with Journal(tmp_path / "journal.sqlite") as journal:
        first = RiskGuardianLogic(config=limits, latch=KillSwitchLatch(tmp_path), store=journal)
        first.handle(position("0", realized="70"))
        first.handle(position("0", realized="10"))  # 60 below the peak of 70
        second = RiskGuardianLogic(config=limits, latch=KillSwitchLatch(tmp_path), store=journal)
        out = second.handle(position("0", realized="-31"))  # equity 10 - 31 = -21: 91 down
        later = second.handle(position("0", realized="-41"))  # 101 below the old peak

    assert of_type(out, RiskStateChanged)[0].state is TradingState.REDUCE_ONLY
    assert of_type(later, KillSwitchTripped)[0].reason is KillReason.MAX_DRAWDOWN


def rejected(n: int, reason: RejectReason = RejectReason.OTHER) -> OrderRejected:
    return OrderRejected(
        cloid=f"0x{n:032x}",
        reason=reason,
        message="Order refused.",
        ts_exchange=0,
        ts_local=T0 + n * S // 10,
    )


def test_a_rejection_storm_trips_at_the_configured_count_within_the_window(
    tmp_path: Path,
) -> None:
    risk, latch = guardian(tmp_path, rejection_storm_count=3, rejection_storm_window_s=1.0)

    before = [risk.handle(rejected(n)) for n in range(2)]
    third = risk.handle(rejected(2))

    assert all(not of_type(out, KillSwitchTripped) for out in before)
    assert of_type(third, KillSwitchTripped)[0].reason is KillReason.REJECTION_STORM
    assert latch.read() is not None


def test_one_answer_refusing_a_whole_ladder_is_one_refusal_not_a_storm(tmp_path: Path) -> None:
    risk, latch = guardian(tmp_path, rejection_storm_count=3, rejection_storm_window_s=1.0)
    ladder = [replace(rejected(0), cloid=f"0x{level:032x}") for level in range(6)]

    first_answer = [risk.handle(order) for order in ladder]
    second_answer = risk.handle(rejected(1))
    latched_before_the_third = latch.read()
    third_answer = risk.handle(rejected(2))

    assert not any(of_type(out, KillSwitchTripped) for out in [*first_answer, second_answer])
    assert latched_before_the_third is None, "six orders refused by one answer counted six"
    assert of_type(third_answer, KillSwitchTripped)[0].reason is KillReason.REJECTION_STORM


def test_rejections_spread_wider_than_the_window_never_trip(tmp_path: Path) -> None:
    risk, _ = guardian(tmp_path, rejection_storm_count=3, rejection_storm_window_s=0.15)

    outs = [risk.handle(rejected(2 * n)) for n in range(10)]  # one every 0.2 s

    assert not any(of_type(out, KillSwitchTripped) for out in outs)


def test_rate_limit_and_stopping_refusals_are_no_storm(tmp_path: Path) -> None:
    risk, _ = guardian(tmp_path, rejection_storm_count=2)

    outs = [risk.handle(rejected(n, RejectReason.RATE_LIMITED)) for n in range(5)]
    outs += [risk.handle(rejected(n, RejectReason.STOPPING)) for n in range(5, 10)]

    assert not any(of_type(out, KillSwitchTripped) for out in outs)


def test_a_reloaded_storm_threshold_applies_to_the_next_rejection(tmp_path: Path) -> None:
    risk, _ = guardian(tmp_path, rejection_storm_count=100)
    risk.handle(rejected(0))
    risk.handle(
        ParametersChanged(
            quoting=QuotingConfig(),
            order_manager=OrderManagerConfig(),
            risk=RiskConfig(rejection_storm_count=2),
            ts_local=T0,
        )
    )

    out = risk.handle(rejected(1))

    assert of_type(out, KillSwitchTripped)[0].reason is KillReason.REJECTION_STORM
