"""The exchange's open-interest cap: its refusals hold the coin reduce-only, never a storm.

While a coin's open interest is at its cap, the exchange refuses every order that could
grow a position. Those refusals used to count as a rejection storm: five in ten seconds
latched the kill switch and stopped every coin until an operator cleared it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from prometheus_client import CollectorRegistry

from makerd.actors.basket_risk import BasketRiskLogic
from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.config.loader import parse_config
from makerd.config.model import RiskConfig
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.metrics import Metrics
from makerd.daemon.observer import Observer
from makerd.daemon.status_document import RunFacts, status_document
from makerd.protocol.clock import ManualClock
from makerd.protocol.control import TimerFired
from makerd.protocol.orders import OrderRejected
from makerd.protocol.rejections import RejectReason
from makerd.protocol.risk import KillSwitchTripped, RiskLimit, RiskStateChanged, TradingState
from tests.kit import T0, S, of_type

CAP_HOLD_NS = round(RiskConfig().open_interest_cap_hold_s * S)
CAPPED_TEXT = "Order would increase open interest while open interest is capped. asset=0"
COINS = ("BTC", "ETH")


def capped(n: int, coin: str = "BTC") -> OrderRejected:
    """One answer's refusal every 0.5 s, each a new action's (its own time)."""
    return OrderRejected(
        cloid=f"0x{n:032x}",
        reason=RejectReason.OPEN_INTEREST_CAP,
        message=CAPPED_TEXT,
        ts_exchange=0,
        ts_local=T0 + n * S // 2,
        coin=coin,
    )


def tick(at_ns: int) -> TimerFired:
    return TimerFired(ts_local=at_ns)


def test_refusals_for_the_cap_hold_the_coin_reduce_only_instead_of_tripping_a_storm(
    tmp_path: Path,
) -> None:
    latch = KillSwitchLatch(tmp_path)
    risk = RiskGuardianLogic(config=RiskConfig(rejection_storm_count=5), latch=latch)

    outs = [risk.handle(capped(n)) for n in range(12)]  # 12 refusals within 6 s

    assert not any(of_type(out, KillSwitchTripped) for out in outs), "a storm tripped"
    assert latch.read() is None
    changes = [change for out in outs for change in of_type(out, RiskStateChanged)]
    assert [(c.state, c.limits) for c in changes] == [
        (TradingState.REDUCE_ONLY, (RiskLimit.OPEN_INTEREST_CAP,))
    ]
    assert "open-interest cap" in changes[0].reason


def test_the_hold_ends_after_its_length_from_the_last_refusal_and_a_new_refusal_starts_another(
    tmp_path: Path,
) -> None:
    risk = RiskGuardianLogic(config=RiskConfig(), latch=KillSwitchLatch(tmp_path))
    last = capped(3)
    for n in range(4):
        risk.handle(capped(n))

    still = risk.handle(tick(last.ts_local + CAP_HOLD_NS - S))
    over = risk.handle(tick(last.ts_local + CAP_HOLD_NS + S))
    again = risk.handle(dataclasses.replace(last, ts_local=last.ts_local + CAP_HOLD_NS + 2 * S))

    assert of_type(still, RiskStateChanged) == []
    assert [c.state for c in of_type(over, RiskStateChanged)] == [TradingState.NORMAL]
    assert [c.state for c in of_type(again, RiskStateChanged)] == [TradingState.REDUCE_ONLY]


def test_other_refusals_still_make_a_storm_beside_a_cap(tmp_path: Path) -> None:
    latch = KillSwitchLatch(tmp_path)
    risk = RiskGuardianLogic(config=RiskConfig(rejection_storm_count=3), latch=latch)
    risk.handle(capped(0))

    margin = [
        risk.handle(dataclasses.replace(capped(n), reason=RejectReason.INSUFFICIENT_MARGIN))
        for n in range(1, 4)
    ]

    assert of_type(margin[-1], KillSwitchTripped), "the cap's exemption swallowed a real storm"


def test_with_several_coins_the_cap_holds_only_the_refused_coin(tmp_path: Path) -> None:
    latch = KillSwitchLatch(tmp_path)
    config = RiskConfig(rejection_storm_count=5)
    account = RiskGuardianLogic(config=config, latch=latch)
    risk = BasketRiskLogic(config=config, coins=COINS, account=account)

    outs = [risk.handle(capped(n, "ETH")) for n in range(12)]
    held = {c.coin: c.state for out in outs for c in of_type(out, RiskStateChanged)}
    later = risk.handle(tick(capped(11).ts_local + CAP_HOLD_NS + S))

    assert not any(of_type(out, KillSwitchTripped) for out in outs), "a storm tripped"
    assert latch.read() is None
    assert held == {"ETH": TradingState.REDUCE_ONLY}, "BTC was held too, or ETH was not"
    assert {c.coin: c.state for c in of_type(later, RiskStateChanged)} == {
        "ETH": TradingState.NORMAL
    }


def test_the_status_says_the_cap_is_why_the_coin_is_reduce_only(tmp_path: Path) -> None:
    risk = RiskGuardianLogic(config=RiskConfig(), latch=KillSwitchLatch(tmp_path))
    observer = Observer(
        metrics=Metrics(CollectorRegistry(), venue="live", symbol="BTC", process_collectors=False),
        clock=ManualClock(T0),
    )
    for message in risk.handle(capped(0)):
        observer(message)
    facts = RunFacts(session_id=1, pid=1, uptime_s=1.0, now_ns=T0, stopping=None, kill_switch=None)

    status = status_document(observer.snapshot(), parse_config({}, source="test"), facts)

    assert status["trading_state"] == "reduce_only"
    risk_part = status["risk"]
    assert isinstance(risk_part, dict)
    assert "open-interest cap" in str(risk_part["reason"])
