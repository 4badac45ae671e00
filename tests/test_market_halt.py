"""The exchange halts a coin's trading: its refusals hold that coin halted, never a storm.

While the exchange halts a coin (before a delisting, or during an incident), every order of
it is refused with "Trading is halted.". Those refusals counted as a rejection storm: five
in ten seconds latched the kill switch, and with several coins one halted coin stopped
every coin of the account until an operator cleared it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from makerd.actors.basket_risk import BasketRiskLogic
from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.config.model import RiskConfig
from makerd.daemon.latch import KillSwitchLatch
from makerd.protocol.control import TimerFired
from makerd.protocol.orders import ModifyRejected, OrderRejected
from makerd.protocol.rejections import RejectReason
from makerd.protocol.risk import KillSwitchTripped, RiskLimit, RiskStateChanged, TradingState
from tests.kit import T0, S, of_type

HALT_HOLD_NS = round(RiskConfig().market_halt_hold_s * S)
COINS = ("BTC", "ETH")


def halted(n: int, coin: str = "BTC") -> OrderRejected:
    """One answer's refusal every 0.5 s, each a new action's (its own time)."""
    return OrderRejected(
        cloid=f"0x{n:032x}",
        reason=RejectReason.HALTED,
        message="Trading is halted. asset=0",
        ts_exchange=0,
        ts_local=T0 + n * S // 2,
        coin=coin,
    )


def states(outs: list[list[object]]) -> list[tuple[str | None, TradingState]]:
    return [(c.coin, c.state) for out in outs for c in of_type(out, RiskStateChanged)]


def test_refusals_of_a_halted_coin_halt_its_quoting_for_a_while_without_the_kill_switch(
    tmp_path: Path,
) -> None:
    latch = KillSwitchLatch(tmp_path)
    risk = RiskGuardianLogic(config=RiskConfig(rejection_storm_count=5), latch=latch)

    outs = [risk.handle(halted(n)) for n in range(12)]  # 12 refusals within 6 s
    last = halted(11).ts_local
    still = risk.handle(TimerFired(ts_local=last + HALT_HOLD_NS - S))
    over = risk.handle(TimerFired(ts_local=last + HALT_HOLD_NS + S))

    assert not any(of_type(out, KillSwitchTripped) for out in outs), "a storm tripped"
    assert latch.read() is None
    changes = [change for out in outs for change in of_type(out, RiskStateChanged)]
    assert [(c.state, c.limits) for c in changes] == [
        (TradingState.HALTED, (RiskLimit.MARKET_HALT,))
    ]
    assert "halted" in changes[0].reason
    assert of_type(still, RiskStateChanged) == []
    assert [c.state for c in of_type(over, RiskStateChanged)] == [TradingState.NORMAL]


def test_a_halt_and_a_cap_together_hold_the_coin_halted_until_the_halt_ends(
    tmp_path: Path,
) -> None:
    risk = RiskGuardianLogic(config=RiskConfig(), latch=KillSwitchLatch(tmp_path))
    cap_hold_ns = round(RiskConfig().open_interest_cap_hold_s * S)
    capped = dataclasses.replace(halted(0), reason=RejectReason.OPEN_INTEREST_CAP)

    first = risk.handle(capped)
    then = risk.handle(halted(1))
    # Past the halt's hold: the cap, refused again just before, still holds.
    recapped = dataclasses.replace(capped, ts_local=halted(1).ts_local + HALT_HOLD_NS - S)
    risk.handle(recapped)
    after_halt = risk.handle(TimerFired(ts_local=halted(1).ts_local + HALT_HOLD_NS + S))
    after_cap = risk.handle(TimerFired(ts_local=recapped.ts_local + cap_hold_ns + S))

    assert states([first, then, after_halt, after_cap]) == [
        (None, TradingState.REDUCE_ONLY),
        (None, TradingState.HALTED),
        (None, TradingState.REDUCE_ONLY),
        (None, TradingState.NORMAL),
    ]


def test_with_several_coins_a_halt_holds_only_the_halted_coin(tmp_path: Path) -> None:
    latch = KillSwitchLatch(tmp_path)
    config = RiskConfig(rejection_storm_count=5)
    account = RiskGuardianLogic(config=config, latch=latch)
    risk = BasketRiskLogic(config=config, coins=COINS, account=account)

    outs = [risk.handle(halted(n, "ETH")) for n in range(12)]
    later = risk.handle(TimerFired(ts_local=halted(11).ts_local + HALT_HOLD_NS + S))

    assert not any(of_type(out, KillSwitchTripped) for out in outs), "a storm tripped"
    assert latch.read() is None, "one coin's halt latched the kill switch for every coin"
    assert states(outs) == [("ETH", TradingState.HALTED)], "BTC was held too, or ETH was not"
    assert states([later]) == [("ETH", TradingState.NORMAL)]


def test_a_refusal_naming_no_coin_holds_every_coin(tmp_path: Path) -> None:
    config = RiskConfig()
    account = RiskGuardianLogic(config=config, latch=KillSwitchLatch(tmp_path))
    risk = BasketRiskLogic(config=config, coins=COINS, account=account)

    out = risk.handle(halted(0, coin=""))

    assert sorted(states([out]), key=str) == [
        ("BTC", TradingState.HALTED),
        ("ETH", TradingState.HALTED),
    ]


def modify_refused(n: int, reason: RejectReason, coin: str = "BTC") -> ModifyRejected:
    refused = halted(n, coin)
    return ModifyRejected(
        cloid=refused.cloid,
        reason=reason,
        message=refused.message,
        ts_exchange=0,
        ts_local=refused.ts_local,
        coin=coin,
    )


def test_a_modify_refused_as_halted_or_capped_starts_the_hold_at_once(tmp_path: Path) -> None:
    risk = RiskGuardianLogic(config=RiskConfig(), latch=KillSwitchLatch(tmp_path))

    capped = risk.handle(modify_refused(0, RejectReason.OPEN_INTEREST_CAP))
    halt = risk.handle(modify_refused(1, RejectReason.HALTED))

    assert [(c.state, c.limits) for c in of_type([*capped, *halt], RiskStateChanged)] == [
        (TradingState.REDUCE_ONLY, (RiskLimit.OPEN_INTEREST_CAP,)),
        (TradingState.HALTED, (RiskLimit.MARKET_HALT,)),
    ]


def test_other_modify_refusals_hold_nothing_and_make_no_storm(tmp_path: Path) -> None:
    latch = KillSwitchLatch(tmp_path)
    risk = RiskGuardianLogic(config=RiskConfig(rejection_storm_count=3), latch=latch)

    outs = [risk.handle(modify_refused(n, RejectReason.OTHER)) for n in range(10)]

    assert outs == [[]] * 10
    assert latch.read() is None


def test_with_several_coins_a_modify_refused_as_halted_holds_only_its_coin(
    tmp_path: Path,
) -> None:
    config = RiskConfig()
    account = RiskGuardianLogic(config=config, latch=KillSwitchLatch(tmp_path))
    risk = BasketRiskLogic(config=config, coins=COINS, account=account)

    out = risk.handle(modify_refused(0, RejectReason.HALTED, coin="ETH"))

    assert states([out]) == [("ETH", TradingState.HALTED)]
