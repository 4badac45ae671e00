"""Several coins: the config list, client-id lanes, who hears what, the correlated sim."""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal

import numpy as np
import pytest

from makerd.actors.coin_addressing import CoinAddressing
from makerd.config.loader import ConfigError, parse_config
from makerd.config.model import PaperConfig, SimConfig
from makerd.daemon.cloids import CloidFactory, CoinCloids
from makerd.protocol.control import StopTrading
from makerd.protocol.orders import (
    CancelOrders,
    CancelReason,
    ModifyRejected,
    OrderCancelled,
    OrderRejected,
    OrderRequest,
    PlaceOrders,
    QuoteTarget,
    RequestAccountSnapshot,
)
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from makerd.venues.sim.basket import SimBasket
from makerd.venues.sim.price import CommonFactor, MidProcess
from makerd.venues.sim.scenarios import CALM
from makerd.venues.sim.venue import sim_instrument

COINS = ("BTC", "ETH", "SOL")
START_NS = 1_700_000_000_000_000_000
MS = 1_000_000


def problems_of(data: dict[str, object]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as error:
        parse_config(data, source="test")
    return error.value.problems


def test_a_coins_list_gives_each_coin_the_top_level_quoting_and_its_own_overrides() -> None:
    entry = {"coin": "ETH", "quoting": {"order_size": 0.02}}
    config = parse_config({"quoting": {"levels": 2}, "coins": ["BTC", entry]}, source="test")

    btc, eth = config.coin_specs()
    assert (config.coin, btc.coin, eth.coin) == ("BTC", "BTC", "ETH")
    assert (btc.quoting.levels, btc.quoting.order_size) == (2, Decimal("0.002"))
    assert (eth.quoting.levels, eth.quoting.order_size) == (2, Decimal("0.02"))


def test_the_old_single_coin_stays_a_one_coin_list() -> None:
    config = parse_config({"coin": "ETH"}, source="test")

    assert [spec.coin for spec in config.coin_specs()] == ["ETH"]
    assert config.coins == ()


def test_a_comma_separated_coin_is_the_same_list() -> None:
    config = parse_config({"coin": "BTC, ETH,SOL"}, source="test")

    assert [spec.coin for spec in config.coin_specs()] == list(COINS)


@pytest.mark.parametrize("text", ["BT C", "BTC;ETH", "BTC ETH"])
def test_only_a_comma_separates_coins(text: str) -> None:
    """A typo with a space must not quote coins nobody named."""
    problems = problems_of({"coin": text})

    assert any(problem.startswith("coin: names one coin") for problem in problems), problems


def test_every_problem_of_a_coins_list_names_its_entry() -> None:
    problems = problems_of(
        {
            "coins": [
                "BTC",
                {"coin": "ETH", "quoting": {"levels": 0, "levelz": 2}},
                "BTC",
                {"coin": "SOL", "size": 1},
                "BTC!",
            ]
        }
    )

    assert "coins[1].quoting.levelz: unknown key (did you mean 'levels'?) (coin ETH)" in problems
    assert any(
        p.startswith("coins[1].quoting.levels:") and p.endswith("(coin ETH)") for p in problems
    ), problems
    assert "coins[2].coin: BTC is listed twice" in problems
    assert any(
        p.startswith("coins[3].size: unknown key") and p.endswith("(coin SOL)") for p in problems
    ), problems
    assert any(p.startswith("coins[4].coin: must be a coin name") for p in problems), problems


@pytest.mark.parametrize("mode", ["sim", "paper", "live"])
def test_several_coins_are_accepted_in_every_mode(mode: str) -> None:
    config = parse_config({"mode": mode, "coins": ["BTC", "ETH"]}, source="test")

    assert [spec.coin for spec in config.coin_specs()] == ["BTC", "ETH"]


def test_a_coin_beside_the_list_must_be_its_first() -> None:
    problems = problems_of({"coin": "SOL", "coins": ["BTC", "ETH"]})

    assert problems == ("coin: SOL must be the first of coins when both are given",)


def test_each_coins_client_ids_say_which_coin_they_belong_to() -> None:
    cloids = CoinCloids(COINS, run_prefix=0xABC)

    minted = {coin: cloids.factories[coin]() for coin in COINS}

    assert {cloids.coin_of(cloid) for cloid in minted.values()} == set(COINS)
    assert [cloids.coin_of(cloid) for cloid in minted.values()] == list(COINS)
    assert cloids.coin_of(CloidFactory(run_prefix=0xDEF)()) is None, "another run's id"
    assert cloids.coin_of("0x1234") is None
    assert CloidFactory(run_prefix=1)() == f"0x{1:016x}{1:016x}", "one coin: ids as before"


def test_a_message_reaches_its_own_coins_actor_or_every_coins_when_it_names_none() -> None:
    cloids = CoinCloids(COINS, run_prefix=1)
    addressing = CoinAddressing(COINS, coin_of_cloid=cloids.coin_of)
    eth_order = cloids.factories["ETH"]()
    quote = QuoteTarget(coin="SOL", bids=(), asks=(), book_ts_local=0, ts_local=0)
    cancelled = OrderCancelled(
        cloid=eth_order, reason=CancelReason.REQUOTE, ts_exchange=0, ts_local=0
    )
    stop = StopTrading(reason="shutdown", flatten=False, ts_local=0)

    assert addressing.names("order_manager", quote) == ("order_manager:SOL",)
    assert addressing.names("order_manager", cancelled) == ("order_manager:ETH",)
    assert addressing.names("order_manager", stop) == tuple(f"order_manager:{c}" for c in COINS)
    assert addressing.names("fill_tracker", quote) == ("fill_tracker",)
    other = dataclasses.replace(quote, coin="DOGE")
    assert addressing.names("quoter", other) == (), "a coin this process does not quote"


def test_a_refusal_that_does_not_say_its_coin_reaches_the_coin_its_order_was_minted_for() -> None:
    cloids = CoinCloids(COINS, run_prefix=1)
    addressing = CoinAddressing(COINS, coin_of_cloid=cloids.coin_of)
    order = cloids.factories["ETH"]()
    placement = OrderRejected(
        cloid=order, reason=RejectReason.OTHER, message="refused", ts_exchange=0, ts_local=0
    )
    modify = ModifyRejected(
        cloid=order, reason=RejectReason.OTHER, message="refused", ts_exchange=0, ts_local=0
    )

    # Their coin is "" (not said): taken for a coin, it reached no order manager at all.
    assert addressing.names("order_manager", placement) == ("order_manager:ETH",)
    assert addressing.names("order_manager", modify) == ("order_manager:ETH",)


def test_the_sim_basket_splits_a_batch_of_several_coins_orders_per_coin() -> None:
    sim = SimConfig()
    instruments = tuple(sim_instrument(sim, coin, i) for i, coin in enumerate(COINS))
    cloids = CoinCloids(COINS, run_prefix=1)
    basket = SimBasket(
        instruments, sim=sim, paper=PaperConfig(), start_ns=START_NS, coin_of_cloid=cloids.coin_of
    )
    basket.advance(START_NS + 100 * MS)
    far_bids = [
        OrderRequest(
            cloid=cloids.factories[coin](),
            coin=coin,
            side=Side.BUY,
            price=Decimal(50000),
            size=Decimal("0.002"),
        )
        for coin in COINS
    ]

    basket.submit(PlaceOrders(orders=tuple(far_bids), ts_local=0), START_NS + 100 * MS)
    basket.advance(START_NS + 500 * MS)
    resting = {coin: venue.exchange.open_order_count for coin, venue in basket.venues.items()}
    eth = far_bids[1].cloid
    basket.submit(CancelOrders(cloids=(eth,), reason=CancelReason.REQUOTE, ts_local=0), START_NS)
    basket.submit(RequestAccountSnapshot(coin="SOL", ts_local=0), START_NS + 500 * MS)
    basket.advance(START_NS + 900 * MS)

    assert resting == dict.fromkeys(COINS, 1)
    after = {coin: venue.exchange.open_order_count for coin, venue in basket.venues.items()}
    assert after == {"BTC": 1, "ETH": 0, "SOL": 1}


def _return_correlation(correlation: float) -> float:
    # Only the diffusion: no transient wiggle, no jumps, so the factor is all there is to see.
    params = dataclasses.replace(CALM, noise_bps=0.0, jump_rate_per_s=0.0)
    common = CommonFactor(seed=7, correlation=correlation)
    mids = [
        MidProcess(
            params, rng=np.random.default_rng(7 + i), start_price=100.0, step_s=1.0, common=common
        )
        for i in range(2)
    ]
    paths: list[list[float]] = [[], []]
    for _ in range(3000):
        for path, mid in zip(paths, mids, strict=True):
            path.append(math.log(mid.step(0.0)))
    return float(np.corrcoef(np.diff(paths[0]), np.diff(paths[1]))[0, 1])


def test_the_coins_prices_move_together_by_the_configured_share() -> None:
    # Below 0.7: each coin's volatility wanders on its own, which dilutes the shared part.
    assert 0.55 < _return_correlation(0.7) < 0.8
    assert abs(_return_correlation(0.0)) < 0.1
