"""Several coins under one risk budget: account-wide limits on the sum, per-coin on each coin."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

from makerd.actors.basket_risk import BasketRiskLogic
from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.config.model import RiskConfig
from makerd.daemon.latch import KillSwitchLatch
from makerd.protocol.control import TimerFired
from makerd.protocol.risk import KillReason, KillSwitchTripped, RiskStateChanged, TradingState
from tests.kit import T0, S, book, of_type, position

COINS = ("BTC", "ETH", "SOL")


def basket(tmp_path: Path, **limits: object) -> tuple[BasketRiskLogic, KillSwitchLatch]:
    latch = KillSwitchLatch(tmp_path)
    config = RiskConfig(**limits)  # type: ignore[arg-type]
    account = RiskGuardianLogic(config=config, latch=latch)
    return BasketRiskLogic(config=config, coins=COINS, account=account), latch


def of(coin: str, pos: str, *, realized: str = "0", funding: str = "0") -> object:
    return dataclasses.replace(
        position(pos, realized=realized), coin=coin, funding=Decimal(funding)
    )


def states(out: list[object]) -> dict[str | None, TradingState]:
    return {change.coin: change.state for change in of_type(out, RiskStateChanged)}


def test_a_gross_exposure_over_the_limit_trips_on_the_sum_while_no_coin_is_over_its_own(
    tmp_path: Path,
) -> None:
    # Each coin's 0.002 at 60000 is 120 USD: far inside 0.05 and 500 USD per coin.
    risk, latch = basket(
        tmp_path,
        max_position=Decimal("0.05"),
        max_position_usd=Decimal(500),
        max_gross_usd=Decimal(300),
    )

    first = risk.handle(of("BTC", "0.002")) + risk.handle(of("ETH", "-0.002"))
    out = risk.handle(of("SOL", "0.002"))  # 360 USD gross

    assert of_type(first, KillSwitchTripped) == []
    tripped = of_type(out, KillSwitchTripped)
    assert [t.reason for t in tripped] == [KillReason.MAX_GROSS_EXPOSURE]
    assert "360.00 USD over 300 USD" in tripped[0].detail
    assert states(out) == dict.fromkeys(COINS, TradingState.HALTED)
    assert risk.coin_states == dict.fromkeys(COINS, TradingState.NORMAL), "no coin's own limit"
    latched = latch.read()
    assert latched is not None
    assert latched.reason == "max_gross_exposure"


def test_opposite_positions_cancel_in_the_net_exposure_but_not_in_the_gross(
    tmp_path: Path,
) -> None:
    risk, latch = basket(tmp_path, max_net_usd=Decimal(200))

    risk.handle(of("BTC", "0.003"))  # +180 USD
    hedged = risk.handle(of("ETH", "-0.003"))  # net 0
    out = risk.handle(of("SOL", "0.003"))  # net +180: under 200, at 0.8 of it reduce-only

    assert of_type(hedged + out, KillSwitchTripped) == []
    assert risk.gross_usd() == Decimal(540)
    assert risk.net_usd() == Decimal(180)
    assert states(out) == dict.fromkeys(COINS, TradingState.REDUCE_ONLY)
    assert latch.read() is None


def test_a_coin_over_its_own_limit_is_halted_alone_and_the_others_keep_quoting(
    tmp_path: Path,
) -> None:
    risk, latch = basket(tmp_path, max_position=Decimal("0.05"))

    risk.handle(of("BTC", "0.01"))
    out = risk.handle(of("ETH", "0.06"))

    assert states(out) == {"ETH": TradingState.HALTED}
    assert of_type(out, KillSwitchTripped) == []
    assert latch.read() is None, "one coin's inventory is not the account's emergency"
    back = risk.handle(of("ETH", "0.01"))
    assert states(back) == {"ETH": TradingState.NORMAL}


def test_the_account_loss_is_the_sum_of_every_coins_pnl(tmp_path: Path) -> None:
    risk, latch = basket(tmp_path, session_loss_usd=Decimal(100), max_drawdown_usd=Decimal(1000))

    risk.handle(of("BTC", "0", realized="-60"))
    out = risk.handle(of("ETH", "0", realized="-50"))  # each under 100, together 110

    tripped = of_type(out, KillSwitchTripped)
    assert [t.reason for t in tripped] == [KillReason.SESSION_LOSS]
    assert states(out) == dict.fromkeys(COINS, TradingState.HALTED)
    assert latch.read() is not None


def test_the_account_loss_counts_every_coins_funding(tmp_path: Path) -> None:
    risk, _ = basket(tmp_path, session_loss_usd=Decimal(100), max_drawdown_usd=Decimal(1000))

    risk.handle(of("BTC", "0", realized="-50"))
    out = risk.handle(of("ETH", "0", realized="-40", funding="-15"))  # 105 with funding

    assert [t.reason for t in of_type(out, KillSwitchTripped)] == [KillReason.SESSION_LOSS]


def test_near_an_account_loss_limit_every_coin_turns_reduce_only(tmp_path: Path) -> None:
    risk, _ = basket(tmp_path, session_loss_usd=Decimal(100), max_drawdown_usd=Decimal(1000))

    risk.handle(of("BTC", "0", realized="-45"))
    out = risk.handle(of("SOL", "0", realized="-40"))  # 85 of 100: past loss_soft_at 0.8

    assert states(out) == dict.fromkeys(COINS, TradingState.REDUCE_ONLY)


def test_the_price_band_watches_each_coins_own_mid_and_pauses_that_coin_alone(
    tmp_path: Path,
) -> None:
    risk, latch = basket(
        tmp_path,
        price_band_pct=Decimal(1),
        price_band_window_s=10.0,
        price_band_pause_s=5.0,
    )

    calm = [
        risk.handle(dataclasses.replace(book("59999", "60001", ts=T0), coin="BTC")),
        risk.handle(dataclasses.replace(book("2999", "3001", ts=T0), coin="ETH")),
    ]  # 20 times apart: one band over both coins would pause at once
    jumped = risk.handle(dataclasses.replace(book("3069", "3071", ts=T0 + S), coin="ETH"))
    over = risk.handle(TimerFired(ts_local=T0 + 7 * S))

    assert calm == [[], []]
    assert states(jumped) == {"ETH": TradingState.HALTED}
    assert states(over) == {"ETH": TradingState.NORMAL}
    assert latch.read() is None
