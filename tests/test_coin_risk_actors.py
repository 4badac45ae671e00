"""Each coin's own risk limits reach the logic that judges that coin: the quoter's inventory
skew and the basket guardian's reduce-only and halt, at start and after a reload.

The state machines are the ones the daemon wires (``basket_factories`` from a parsed
config), fed the messages their actors would receive."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.actors.basket_risk import BasketRiskLogic
from makerd.actors.gate import TradingGate
from makerd.actors.quoter import QuoterLogic
from makerd.actors.routing import QUOTER, RISK_GUARDIAN, Logic, coin_role
from makerd.config.loader import parse_config
from makerd.config.model import MakerdConfig
from makerd.daemon.basket import Basket
from makerd.daemon.basket_wiring import basket_factories
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.wiring import ConfigHolder, Dependencies, logic_factories
from makerd.protocol.clock import ManualClock
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookLevel, BookUpdated
from makerd.protocol.orders import QuoteTarget
from makerd.protocol.risk import RiskStateChanged, TradingState
from tests.kit import T0, of_type, position

BTC = Instrument(coin="BTC", asset_id=0, sz_decimals=5)
SOL = Instrument(coin="SOL", asset_id=5, sz_decimals=2)
# BTC sized for about 60000 USD, SOL for about 150: each coin's limit in its own units.
CONFIG: dict[str, object] = {
    "quoting": {"levels": 1, "order_size": 0.002, "inventory_skew_bps": 4},
    "risk": {"max_position": 0.01},
    "coins": [
        "BTC",
        {"coin": "SOL", "quoting": {"order_size": 1}, "risk": {"max_position": 4}},
    ],
}


def dependencies(tmp_path: Path, config: MakerdConfig) -> Dependencies:
    """What the daemon hands the wiring: a real journal and latch, a manual clock."""
    journal = Journal(tmp_path / "journal.sqlite")
    return Dependencies(
        config=config,
        instrument=BTC,
        journal=journal,
        session_id=journal.start_session(mode="sim", coin=config.coin, ts_ns=0),
        latch=KillSwitchLatch(tmp_path),
        new_cloid=lambda: "0x" + "0" * 32,
        clock=ManualClock(T0),
        gate=TradingGate(),
        current=ConfigHolder(config),
    )


def wired(tmp_path: Path, config: MakerdConfig) -> dict[str, Callable[[], Logic]]:
    deps = dependencies(tmp_path, config)
    return basket_factories(deps, instruments=(BTC, SOL), cloids=Basket.of(config).cloids)


def book_of(coin: str, bid: str, ask: str) -> BookUpdated:
    return BookUpdated(
        coin=coin,
        bids=(BookLevel(price=Decimal(bid), size=Decimal(50)),),
        asks=(BookLevel(price=Decimal(ask), size=Decimal(50)),),
        ts_exchange=T0,
        ts_local=T0,
    )


def quoted_at(quoter: QuoterLogic, book: BookUpdated, inventory: str) -> QuoteTarget:
    quoter.handle(book)
    held = dataclasses.replace(position(inventory, mark=str(book.mid)), coin=book.coin)
    [target] = of_type(quoter.handle(held), QuoteTarget)
    return target


@pytest.mark.parametrize(
    ("coin", "bid", "ask", "half_its_limit"),
    [("BTC", "59999", "60001", "0.005"), ("SOL", "149.99", "150.01", "2")],
)
def test_each_coin_is_skewed_by_its_inventory_over_its_own_position_limit(
    tmp_path: Path, coin: str, bid: str, ask: str, half_its_limit: str
) -> None:
    factories = wired(tmp_path, parse_config(CONFIG, source="test"))
    quoter = factories[coin_role(QUOTER, coin)]()
    assert isinstance(quoter, QuoterLogic)

    target = quoted_at(quoter, book_of(coin, bid, ask), half_its_limit)

    # Long half the limit: the bid is half the ask's size, the ladder 2 bps (half of
    # inventory_skew_bps) below the mid.
    [bid_level], [ask_level] = target.bids, target.asks
    assert bid_level.size * 2 == ask_level.size
    centre = (bid_level.price + ask_level.price) / 2
    mid = (Decimal(bid) + Decimal(ask)) / 2
    assert (mid - centre) / mid * 10_000 == pytest.approx(2, abs=0.5)


def test_a_coins_skew_follows_its_own_limit_after_a_reload(tmp_path: Path) -> None:
    config = parse_config(CONFIG, source="test")
    factories = wired(tmp_path, config)
    quoter = factories[coin_role(QUOTER, "SOL")]()
    assert isinstance(quoter, QuoterLogic)
    quoted_at(quoter, book_of("SOL", "149.99", "150.01"), "2")
    sol = {"coin": "SOL", "quoting": {"order_size": 1}, "risk": {"max_position": 8}}
    reloaded = parse_config({**CONFIG, "coins": ["BTC", sol]}, source="test")

    [target] = of_type(
        quoter.handle(Basket.of(reloaded).parameters_changed(reloaded, T0 + 1)[1]), QuoteTarget
    )

    [bid_level], [ask_level] = target.bids, target.asks
    assert bid_level.size == Decimal("0.75"), "2 SOL is a quarter of 8: bids at 3/4 size"
    assert ask_level.size == Decimal(1)


def guardian(tmp_path: Path, config: MakerdConfig) -> BasketRiskLogic:
    factories = wired(tmp_path, config)
    logic = factories[RISK_GUARDIAN]()
    assert isinstance(logic, BasketRiskLogic)
    return logic


def held(coin: str, size: str, mark: str) -> object:
    return dataclasses.replace(position(size, mark=mark), coin=coin)


def states(out: list[object]) -> dict[str | None, TradingState]:
    return {change.coin: change.state for change in of_type(out, RiskStateChanged)}


def test_a_coin_past_its_own_limit_is_halted_while_a_larger_position_of_another_is_not(
    tmp_path: Path,
) -> None:
    risk = guardian(tmp_path, parse_config(CONFIG, source="test"))

    sol_near = risk.handle(held("SOL", "3.5", "150"))  # 3.5 of its 4: reduce-only
    btc_fine = risk.handle(held("BTC", "0.005", "60000"))  # half its 0.01
    sol_past = risk.handle(held("SOL", "4.5", "150"))

    assert states(sol_near) == {"SOL": TradingState.REDUCE_ONLY}
    assert states(btc_fine) == {}, "BTC stays normal"
    assert states(sol_past) == {"SOL": TradingState.HALTED}
    assert risk.coin_states == {"BTC": TradingState.NORMAL, "SOL": TradingState.HALTED}


def test_a_reloaded_coin_limit_binds_that_coin_at_once_and_no_other(tmp_path: Path) -> None:
    risk = guardian(tmp_path, parse_config(CONFIG, source="test"))
    risk.handle(held("SOL", "2", "150"))
    risk.handle(held("BTC", "0.005", "60000"))
    sol = {"coin": "SOL", "quoting": {"order_size": 1}, "risk": {"max_position": 1}}
    reloaded = parse_config({**CONFIG, "coins": ["BTC", sol]}, source="test")

    out = [m for c in Basket.of(reloaded).parameters_changed(reloaded, T0) for m in risk.handle(c)]

    assert states(out) == {"SOL": TradingState.HALTED}, "without waiting for SOL's next position"
    assert risk.coin_states["BTC"] is TradingState.NORMAL


def test_the_accounts_exposure_keeps_the_top_level_reduce_only_threshold(
    tmp_path: Path,
) -> None:
    # SOL turns reduce-only at half its own limit; the account's gross limit still at 0.8.
    sol = {
        "coin": "SOL",
        "quoting": {"order_size": 1},
        "risk": {"max_position": 4, "reduce_only_at": 0.5},
    }
    config = parse_config(
        {**CONFIG, "risk": {"max_position": 0.01, "max_gross_usd": 1000}, "coins": ["BTC", sol]},
        source="test",
    )
    risk = guardian(tmp_path, config)

    out = risk.handle(held("SOL", "2", "300"))  # 600 USD gross: 0.6 of the account's limit

    assert states(out) == {"SOL": TradingState.REDUCE_ONLY}
    assert risk.exposure_state is TradingState.NORMAL


def test_a_one_entry_coins_list_quotes_and_is_judged_by_its_entrys_own_sections(
    tmp_path: Path,
) -> None:
    # One coin listed with its own quoting and limit: check-config judged the entry, so the
    # run must quote and judge by it (it took the top-level quoting until a reload).
    entry = {"coin": "BTC", "quoting": {"levels": 2}, "risk": {"max_position": 0.01}}
    config = parse_config({"risk": {"max_position": 0.05}, "coins": [entry]}, source="test")
    factories = logic_factories(dependencies(tmp_path, config))
    quoter, risk = factories[QUOTER](), factories[RISK_GUARDIAN]()
    assert isinstance(quoter, QuoterLogic)

    target = quoted_at(quoter, book_of("BTC", "59999", "60001"), "0.005")
    out = risk.handle(held("BTC", "0.009", "60000"))

    assert len(target.asks) == 2, "the entry's two levels, not the section's three"
    assert target.bids[0].size * 2 == target.asks[0].size, "half of its own 0.01"
    assert states(out) == {None: TradingState.REDUCE_ONLY}, "0.009 is 0.9 of its own 0.01"
