"""Account queries against the local venue: several coins cost one query per perp dex, and
each coin gets its own orders and position out of the shared answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import eth_account
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

from makerd.protocol.account import PositionReported
from makerd.protocol.orders import OpenOrdersReported
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.account_queries import AccountQueries, AccountSnapshot
from makerd.venues.hyperliquid.rate_budget import RateBudget
from makerd.venues.hyperliquid.rest import RestClient
from tests.test_hl_live_e2e import fault

COINS = ("BTC", "ETH", "xyz:TSLA")
GTC: Any = {"limit": {"tif": "Gtc"}}
OPEN_ORDERS_WEIGHT = 20
POSITION_WEIGHT = 2


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    running = VenueThread(VenueConfig(port=0, auto_provision=True, seed=11, tick_interval_s=0.1))
    running.start()
    yield running
    running.stop()


def rest_a_far_bid(url: str, wallet: Any, coin: str, size: float) -> None:
    bid = Decimal(Info(url, skip_ws=True).l2_snapshot(coin)["levels"][0][0]["px"])
    price = float(round(bid * Decimal("0.9"), 0))
    response = Exchange(wallet, url).order(coin, True, size, price, GTC)
    assert "resting" in response["response"]["data"]["statuses"][0], response


def ask_about_every_coin(
    url: str, user: str
) -> tuple[dict[str, OpenOrdersReported], dict[str, PositionReported], int]:
    async def asking() -> tuple[dict[str, OpenOrdersReported], dict[str, PositionReported], int]:
        budget = RateBudget(weight_per_minute=600)
        rest = RestClient(url, budget, timeout_s=5.0)
        await rest.open()
        try:
            queries = AccountQueries(rest, user=user, now_ns=time.time_ns)
            orders = await queries.open_orders_of(COINS)
            positions = await queries.positions_of(COINS)
        finally:
            await rest.close()
        return orders, positions, budget.weight_spent

    return asyncio.run(asking())


def test_three_coins_on_two_dexes_cost_two_queries_of_each_kind(venue: VenueThread) -> None:
    wallet = eth_account.Account.create()
    rest_a_far_bid(venue.url, wallet, "BTC", 0.001)
    rest_a_far_bid(venue.url, wallet, "ETH", 0.01)

    orders, positions, weight = ask_about_every_coin(venue.url, wallet.address.lower())

    assert {coin: len(report.orders) for coin, report in orders.items()} == {
        "BTC": 1,
        "ETH": 1,
        "xyz:TSLA": 0,
    }
    assert all(report.coin == coin for coin, report in orders.items())
    assert {coin: p.position for coin, p in positions.items()} == dict.fromkeys(COINS, Decimal(0))
    assert weight == 2 * OPEN_ORDERS_WEIGHT + 2 * POSITION_WEIGHT, "one query per dex, not per coin"


def test_a_question_asked_again_while_its_answer_is_on_its_way_spends_nothing(
    venue: VenueThread,
) -> None:
    # On a tight budget a snapshot takes seconds, and the order manager asks again on a
    # timer. Each retry used to start queries of its own, which kept the budget at the
    # query reserve, under what a new order needs, long after a rate limit had ended.
    user = eth_account.Account.create().address.lower()

    async def asking() -> tuple[list[AccountSnapshot | None], int, int]:
        budget = RateBudget(weight_per_minute=600)
        rest = RestClient(venue.url, budget, timeout_s=5.0)
        await rest.open()
        try:
            queries = AccountQueries(rest, user=user, now_ns=time.time_ns)
            first = asyncio.create_task(queries.fresh_snapshot("BTC"))
            await asyncio.sleep(0.3)  # its listing has left and waits for the venue
            retried = await queries.fresh_snapshot("BTC", again=True)
            retry_spent = budget.weight_spent
            new_question = await queries.fresh_snapshot("BTC")
            answers = [await first, retried, new_question]
        finally:
            await rest.close()
        return answers, retry_spent, budget.weight_spent

    fault(venue.url, {"delay_info_s": 1.0, "delay_for_s": 10})
    try:
        (first, retried, new_question), retry_spent, spent = asyncio.run(asking())
    finally:
        fault(venue.url, {"clear": True})

    assert first is not None
    assert new_question is not None
    assert retried is None, "the answer on its way serves the question asked again"
    assert retry_spent == OPEN_ORDERS_WEIGHT, "the retry added no query to the first's listing"
    assert spent == 2 * (OPEN_ORDERS_WEIGHT + POSITION_WEIGHT), "a new question asks afresh"


def test_a_listing_is_dated_when_it_was_asked_not_when_its_slow_answer_was_heard(
    venue: VenueThread,
) -> None:
    # A stop takes only a listing made since it began. One asked before it and heard after
    # it may miss an order placed in between; dated when heard, it was taken for the
    # stop's own (tests/test_stop_confirmation.py).
    user = eth_account.Account.create().address.lower()

    async def asking() -> tuple[int, OpenOrdersReported]:
        rest = RestClient(venue.url, RateBudget(weight_per_minute=600), timeout_s=5.0)
        await rest.open()
        try:
            queries = AccountQueries(rest, user=user, now_ns=time.time_ns)
            asked_ns = time.time_ns()
            return asked_ns, await queries.open_orders("BTC")
        finally:
            await rest.close()

    fault(venue.url, {"delay_info_s": 0.5, "delay_for_s": 10})
    try:
        asked_ns, report = asyncio.run(asking())
    finally:
        fault(venue.url, {"clear": True})

    assert report.ts_exchange >= asked_ns, "listed after it was asked"
    assert report.ts_local - report.ts_exchange >= 500_000_000, "heard after the venue's delay"
