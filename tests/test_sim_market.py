"""The synthetic market: reproducible, legal, and shaped like its scenario."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import pytest

from makerd.config.model import Scenario
from makerd.protocol import BookSnapshotReceived, Instrument, Side, TradePrinted
from makerd.venues.sim import SyntheticMarket
from makerd.venues.sim.market import MarketEvent

BTC = Instrument(coin="BTC", asset_id=0, sz_decimals=5)
STEP_NS = 100_000_000
START_NS = 1_700_000_000_000_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND


def market(scenario: Scenario = Scenario.CALM, seed: int = 7) -> SyntheticMarket:
    return SyntheticMarket(
        BTC,
        scenario=scenario,
        seed=seed,
        start_price=Decimal(60000),
        step_ns=STEP_NS,
        start_ns=START_NS,
    )


def snapshots(events: list[MarketEvent]) -> list[BookSnapshotReceived]:
    return [event for event in events if isinstance(event, BookSnapshotReceived)]


def mids(events: list[MarketEvent]) -> list[float]:
    return [float(s.bids[0].price + s.asks[0].price) / 2 for s in snapshots(events)]


def test_the_same_seed_gives_the_same_stream_however_often_it_is_polled() -> None:
    end = START_NS + MINUTE
    every_step = market()
    polled_every_step: list[MarketEvent] = []
    for now in range(START_NS, end + 1, STEP_NS):
        polled_every_step += every_step.step_until(now)
    irregular = market()
    polled_irregularly: list[MarketEvent] = []
    for now in (START_NS - 1, START_NS + 3 * STEP_NS + 17, START_NS + 7 * SECOND + 1, end):
        polled_irregularly += irregular.step_until(now)

    polled_once = market().step_until(end)

    assert polled_every_step == polled_once
    assert polled_irregularly == polled_once
    assert len(snapshots(polled_once)) == 601


def test_different_seeds_give_different_markets() -> None:
    end = START_NS + 10 * SECOND

    assert market(seed=1).step_until(end) != market(seed=2).step_until(end)


def test_a_snapshot_is_published_at_every_step_and_no_event_is_in_the_future() -> None:
    events = market().step_until(START_NS + 10 * SECOND + STEP_NS // 2)

    assert [s.ts_exchange for s in snapshots(events)] == list(
        range(START_NS, START_NS + 10 * SECOND + 1, STEP_NS)
    )
    times = [event.ts_local for event in events]
    assert times == sorted(times)
    assert max(times) <= START_NS + 10 * SECOND


@pytest.mark.parametrize("scenario", list(Scenario))
def test_every_book_is_legal_deep_and_uncrossed_with_a_one_or_two_tick_spread(
    scenario: Scenario,
) -> None:
    events = market(scenario).step_until(START_NS + MINUTE)

    for snapshot in snapshots(events):
        bid_prices = [level.price for level in snapshot.bids]
        ask_prices = [level.price for level in snapshot.asks]
        assert len(bid_prices) >= 20
        assert len(ask_prices) >= 20
        assert bid_prices == sorted(bid_prices, reverse=True)
        assert len(set(bid_prices)) == len(bid_prices)
        assert ask_prices == sorted(ask_prices)
        assert len(set(ask_prices)) == len(ask_prices)
        assert all(BTC.is_valid_price(price) for price in bid_prices + ask_prices)
        levels = snapshot.bids + snapshot.asks
        assert all(BTC.is_valid_size(level.size) for level in levels)
        assert Decimal(1) <= ask_prices[0] - bid_prices[0] <= Decimal(2)


def test_trades_have_unique_ids_and_hit_the_side_their_aggressor_takes() -> None:
    events = market().step_until(START_NS + MINUTE)

    trades = [event for event in events if isinstance(event, TradePrinted)]
    assert len(trades) > 60
    assert len({t.trade_id for t in trades}) == len(trades)
    assert {t.side for t in trades} == {Side.BUY, Side.SELL}
    last_book = None
    for event in events:
        if isinstance(event, BookSnapshotReceived):
            last_book = event
        elif last_book is not None:
            if event.side is Side.BUY:
                assert event.price >= last_book.asks[0].price
            else:
                assert event.price <= last_book.bids[0].price
            assert BTC.is_valid_size(event.size)


def test_a_crash_loses_at_least_ten_percent_within_five_minutes() -> None:
    events = market(Scenario.CRASH).step_until(START_NS + 5 * MINUTE)

    path = mids(events)
    assert min(path) <= 0.9 * path[0]


def realised_vol(scenario: Scenario, seed: int) -> float:
    path = mids(market(scenario, seed).step_until(START_NS + 3 * MINUTE))
    per_second = path[::10]
    returns = [math.log(b / a) for a, b in itertools.pairwise(per_second)]
    return math.sqrt(sum(r * r for r in returns) / len(returns))


@pytest.mark.parametrize("seed", [1, 2])
def test_a_volatile_market_moves_more_than_a_calm_one(seed: int) -> None:
    assert realised_vol(Scenario.VOLATILE, seed) > 1.5 * realised_vol(Scenario.CALM, seed)


def test_a_trending_market_drifts_up() -> None:
    path = mids(market(Scenario.TRENDING).step_until(START_NS + 5 * MINUTE))

    assert path[-1] > path[0] * 1.005


def test_a_calm_market_stays_within_one_percent_over_five_minutes() -> None:
    path = mids(market(Scenario.CALM).step_until(START_NS + 5 * MINUTE))

    assert max(path) < 1.01 * path[0]
    assert min(path) > 0.99 * path[0]


def test_the_true_mid_lies_inside_the_published_spread() -> None:
    synthetic = market()
    events = synthetic.step_until(START_NS + 10 * SECOND)

    last = snapshots(events)[-1]
    assert last.bids[0].price <= synthetic.mid <= last.asks[0].price
