"""The price band: a mid that moves too far too fast pauses quoting, then quoting resumes.

First message by message through the guardian, then the whole actor system on the
embedded sim through the deterministic driver: the pause cancels what rests and places
nothing until it ends.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.config.model import MakerdConfig, RiskConfig, Scenario
from makerd.daemon.backtest import run_simulated
from makerd.daemon.latch import KillSwitchLatch
from makerd.protocol.control import TimerFired
from makerd.protocol.orders import CancelOrders, PlaceOrders
from makerd.protocol.risk import KillSwitchTripped, RiskLimit, RiskStateChanged, TradingState
from tests.kit import T0, S, book, of_type, position

BAND = RiskConfig(price_band_pct=Decimal(1), price_band_window_s=10.0, price_band_pause_s=30.0)


def band_guardian(tmp_path: Path, config: RiskConfig = BAND) -> RiskGuardianLogic:
    return RiskGuardianLogic(config=config, latch=KillSwitchLatch(tmp_path))


def test_a_move_wider_than_the_band_within_the_window_pauses_and_the_clock_resumes(
    tmp_path: Path,
) -> None:
    risk = band_guardian(tmp_path)
    risk.handle(book("59999", "60001", ts=T0))

    jumped = risk.handle(book("60699", "60701", ts=T0 + 5 * S))  # +1.17% in 5 s
    during = risk.handle(TimerFired(ts_local=T0 + 30 * S))
    after = risk.handle(TimerFired(ts_local=T0 + 36 * S))

    [paused] = of_type(jumped, RiskStateChanged)
    assert paused.state is TradingState.HALTED
    assert paused.limits == (RiskLimit.PRICE_BAND,)
    assert "1.17%" in paused.reason
    assert of_type(jumped, KillSwitchTripped) == [], "a pause, not a kill switch"
    assert KillSwitchLatch(tmp_path).read() is None
    assert of_type(during, RiskStateChanged) == []
    [resumed] = of_type(after, RiskStateChanged)
    assert resumed.state is TradingState.NORMAL


def test_the_same_move_spread_wider_than_the_window_does_not_pause(tmp_path: Path) -> None:
    risk = band_guardian(tmp_path)
    outs = [
        risk.handle(book(str(59999 + 350 * step), str(60001 + 350 * step), ts=T0 + step * 6 * S))
        for step in range(3)  # +0.58% every 6 s: 1.17% over 12 s, never 1% within 10 s
    ]

    assert not any(of_type(out, RiskStateChanged) for out in outs)


def test_a_band_of_zero_is_off(tmp_path: Path) -> None:
    risk = band_guardian(tmp_path, RiskConfig())
    risk.handle(book("59999", "60001", ts=T0))

    out = risk.handle(book("65999", "66001", ts=T0 + S))

    assert out == []


def test_a_limit_near_its_end_during_a_pause_turns_quoting_reduce_only_when_it_ends(
    tmp_path: Path,
) -> None:
    risk = band_guardian(tmp_path)
    risk.handle(book("59999", "60001", ts=T0))
    risk.handle(book("60699", "60701", ts=T0 + 5 * S))

    during = risk.handle(position("0.045", ts=T0 + 6 * S))  # 90% of max_position
    after = risk.handle(TimerFired(ts_local=T0 + 36 * S))

    assert of_type(during, RiskStateChanged) == [], "still paused"
    assert risk.state is TradingState.REDUCE_ONLY
    assert of_type(after, RiskStateChanged)[0].limits == (RiskLimit.POSITION,)


def test_a_market_still_moving_when_the_pause_ends_pauses_again(tmp_path: Path) -> None:
    risk = band_guardian(tmp_path)
    risk.handle(book("59999", "60001", ts=T0))
    risk.handle(book("60699", "60701", ts=T0 + 5 * S))

    risk.handle(book("60099", "60101", ts=T0 + 30 * S))
    again = risk.handle(book("60799", "60801", ts=T0 + 36 * S))  # +1.16% within 6 s

    assert risk.state is TradingState.HALTED
    assert of_type(again, RiskStateChanged) == [], "one continuous pause, no flicker"
    risk.handle(TimerFired(ts_local=T0 + 60 * S))  # the first pause alone would have ended
    assert risk.state is TradingState.HALTED


def in_a_crash(risk: RiskConfig) -> MakerdConfig:
    """The default config on the sim's crash scenario, with these limits."""
    base = MakerdConfig()
    return dataclasses.replace(
        base, sim=dataclasses.replace(base.sim, scenario=Scenario.CRASH), risk=risk
    )


def test_in_the_sim_a_pause_cancels_the_quotes_places_nothing_and_quoting_resumes(
    tmp_path: Path,
) -> None:
    config = in_a_crash(
        dataclasses.replace(
            RiskConfig(),
            price_band_pct=Decimal("0.3"),
            price_band_window_s=5.0,
            price_band_pause_s=5.0,
            session_loss_usd=Decimal(10_000),
            max_drawdown_usd=Decimal(10_000),
            daily_loss_usd=Decimal(10_000),
        )
    )
    seen: list[object] = []

    run_simulated(config, seconds=120, state_dir=tmp_path, watch=seen.append)

    pauses = [
        i
        for i, message in enumerate(seen)
        if isinstance(message, RiskStateChanged) and RiskLimit.PRICE_BAND in message.limits
    ]
    assert pauses, "the crash moved the mid past the band"
    first = pauses[0]
    resumed = next(
        i
        for i, message in enumerate(seen[first + 1 :], first + 1)
        if isinstance(message, RiskStateChanged) and message.state is not TradingState.HALTED
    )
    during = seen[first:resumed]
    assert of_type(during, CancelOrders), "the resting quotes were cancelled"
    assert of_type(during, PlaceOrders) == [], "nothing placed while paused"
    assert of_type(seen[resumed:], PlaceOrders), "quoting resumed by itself"
    assert of_type(seen, KillSwitchTripped) == []
