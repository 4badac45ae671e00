"""One signed action carrying several coins' orders, against the local venue (real signing)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import pytest
from eth_account import Account

from makerd.protocol.account import PositionReported
from makerd.protocol.orders import (
    CancelAll,
    CancelOrders,
    CancelReason,
    OpenOrdersReported,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderRequest,
    PlaceOrders,
    RequestAccountSnapshot,
    RequestMargin,
    SweepOrders,
    TimeInForce,
)
from makerd.protocol.rejections import RejectReason
from makerd.protocol.risk import MarginReported
from makerd.protocol.side import Side
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.account_queries import AccountQueries
from makerd.venues.hyperliquid.batching import PlaceBatcher
from makerd.venues.hyperliquid.rate_budget import Priority, RateBudget
from makerd.venues.hyperliquid.rest import RequestLostError, RestClient, fetch_info_blocking
from tests.test_hl_gateway import Harness, resting_bid
from tests.test_hl_live_e2e import fault


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=6, tick_interval_s=0.2))
    url = venue.start()
    yield url
    venue.stop()


def eth_bid(url: str, cloid_n: int) -> OrderRequest:
    book = fetch_info_blocking(url, {"type": "l2Book", "coin": "ETH"}, timeout_s=5)
    assert isinstance(book, dict)
    best_bid = Decimal(book["levels"][0][0]["px"])
    return OrderRequest(
        cloid=f"0x{cloid_n:032x}",
        coin="ETH",
        side=Side.BUY,
        price=(best_bid * Decimal("0.95")).quantize(Decimal("0.1")),
        size=Decimal("0.01"),
    )


def actions(url: str, user: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{url}/_debug/account?user={user}", timeout=5) as response:
        answer = json.loads(response.read())
    return [a for a in answer["actions"] if a["type"] == "order"]


def test_one_action_places_and_one_cancels_orders_of_two_coins(venue_url: str) -> None:
    harness = Harness(venue_url, others=("ETH",))
    btc, eth = resting_bid(venue_url, 0xB1), eth_bid(venue_url, 0xE1)

    events = harness.run(
        PlaceOrders(orders=(btc, eth), ts_local=time.time_ns()),
        CancelOrders(cloids=(btc.cloid, eth.cloid), reason=CancelReason.REQUOTE, ts_local=0),
    )

    accepted = [e for e in events if isinstance(e, OrderAccepted)]
    assert sorted(e.coin for e in accepted) == ["BTC", "ETH"]
    cancelled = {e.cloid for e in events if isinstance(e, OrderCancelled)}
    assert cancelled == {btc.cloid, eth.cloid}
    user = Account.from_key(harness.key).address.lower()
    sent = [(a["type"], a["orders"], a["accepted"]) for a in actions(venue_url, user)]
    assert sent[0] == ("order", 2, True), sent


def test_commands_queued_together_merge_into_actions_of_at_most_forty_orders() -> None:
    batcher = PlaceBatcher()
    orders = [
        OrderRequest(
            cloid=f"0x{n:032x}", coin=coin, side=Side.BUY, price=Decimal(1), size=Decimal(1)
        )
        for n, coin in enumerate(["BTC"] * 25 + ["ETH"] * 25)
    ]

    first = batcher.add(PlaceOrders(orders=tuple(orders[:25]), ts_local=20))
    second = batcher.add(PlaceOrders(orders=tuple(orders[25:]), ts_local=10))
    merged = batcher.take()

    assert (first, second) == (True, False)
    assert [len(command.orders) for command in merged] == [40, 10]
    assert [order for command in merged for order in command.orders] == orders
    assert {command.ts_local for command in merged} == {10}, "as old as its oldest part"
    assert batcher.take() == []


def resting_on_two_coins(
    venue_url: str, btc_n: int, eth_n: int
) -> tuple[Harness, OrderRequest, OrderRequest]:
    """A BTC and an ETH bid resting, placed by a harness whose clock is the present (the
    venue's position answers must not look like frames from the future)."""
    harness = Harness(venue_url, others=("ETH",), clock=time.time_ns)
    btc, eth = resting_bid(venue_url, btc_n), eth_bid(venue_url, eth_n)
    harness.run(PlaceOrders(orders=(btc, eth), ts_local=time.time_ns()))
    return harness, btc, eth


def test_a_stop_sweep_lists_once_cancels_every_coin_in_one_action_and_reports_each_empty(
    venue_url: str,
) -> None:
    harness, btc, eth = resting_on_two_coins(venue_url, 0xB2, 0xE2)
    spent, already = harness.budget.weight_spent, len(harness.emitted)

    sweep = SweepOrders(coins=("BTC", "ETH"), reason=CancelReason.SHUTDOWN, ts_local=0)
    events = harness.run(sweep)[already:]

    reports = {e.coin: e for e in events if isinstance(e, OpenOrdersReported)}
    assert {coin: (r.orders, r.unsettled_orders) for coin, r in reports.items()} == {
        "BTC": ((), 0),
        "ETH": ((), 0),
    }
    assert {e.cloid for e in events if isinstance(e, OrderCancelled)} == {btc.cloid, eth.cloid}
    positions = {e.coin: e.position for e in events if isinstance(e, PositionReported)}
    assert positions == {"BTC": 0, "ETH": 0}, "read after the cancels, for the stop's books"
    # Both coins are on the main perp dex: one listing (20), one cancel action (1) and one
    # position query (2).
    assert harness.budget.weight_spent - spent == 23
    user = Account.from_key(harness.key).address
    assert fetch_info_blocking(venue_url, {"type": "openOrders", "user": user}, timeout_s=5) == []


def test_a_stop_asking_again_while_its_sweep_waits_for_budget_is_answered_by_that_sweep(
    venue_url: str,
) -> None:
    # A stop asks again when no answer comes within a few seconds, and with the budget
    # spent none does. Each question used to start its own listing: they queued for the
    # same refill, and the stop ran out of time before any reached its cancel.
    harness, btc, eth = resting_on_two_coins(venue_url, 0xB4, 0xE4)
    harness.gate.close("stop")
    harness.budget.try_spend(int(harness.budget.weight_left), priority=Priority.CANCEL)
    spent, already = harness.budget.weight_spent, len(harness.emitted)

    sweep = SweepOrders(coins=("BTC", "ETH"), reason=CancelReason.SHUTDOWN, ts_local=0)
    started = time.monotonic()
    events = harness.run(sweep, sweep, sweep, together=True)[already:]
    took_s = time.monotonic() - started

    reports = [e for e in events if isinstance(e, OpenOrdersReported)]
    assert [(r.coin, r.orders, r.unsettled_orders) for r in reports] == [
        ("BTC", (), 0),
        ("ETH", (), 0),
    ], "one listing answered all three questions"
    assert {e.cloid for e in events if isinstance(e, OrderCancelled)} == {btc.cloid, eth.cloid}
    assert harness.budget.weight_spent - spent == 23, "one listing, cancel and position query"
    assert took_s < 4.5, f"one wait for the refill (2 s at 10 a second), not three: {took_s:.1f}"


def test_a_stop_sweep_answers_the_main_dex_coins_before_it_lists_the_builder_dex(
    venue_url: str,
) -> None:
    # On a spent budget each listing waits seconds for the refill. The main dex's coins
    # were answered only after the builder dex's listing too, and a stop once ran out of
    # time waiting for an answer its own listing had long made possible.
    harness = Harness(venue_url, others=("xyz:TSLA",), clock=time.time_ns)
    harness.gate.close("stop")
    harness.budget.try_spend(int(harness.budget.weight_left), priority=Priority.CANCEL)

    sweep = SweepOrders(coins=("BTC", "xyz:TSLA"), reason=CancelReason.SHUTDOWN, ts_local=0)
    events = harness.run(sweep)

    btc_read = next(e for e in events if isinstance(e, PositionReported) and e.coin == "BTC")
    tsla_listed = next(
        e for e in events if isinstance(e, OpenOrdersReported) and e.coin == "xyz:TSLA"
    )
    assert btc_read.ts_local < tsla_listed.ts_local, "BTC answered before xyz's listing"


def test_a_stop_sweep_whose_listing_was_lost_leaves_the_next_question_its_own_sweep(
    venue_url: str,
) -> None:
    harness, btc, _eth = resting_on_two_coins(venue_url, 0xB5, 0xE5)
    harness.gate.close("stop")
    sweep = SweepOrders(coins=("BTC", "ETH"), reason=CancelReason.SHUTDOWN, ts_local=0)
    harness.rest_url = "http://127.0.0.1:9"  # the listing's answer never comes
    with pytest.raises(RequestLostError):
        harness.run(sweep)
    harness.rest_url = None
    already = len(harness.emitted)

    events = harness.run(sweep)[already:]

    reports = {e.coin: e.orders for e in events if isinstance(e, OpenOrdersReported)}
    assert reports == {"BTC": (), "ETH": ()}
    assert btc.cloid in {e.cloid for e in events if isinstance(e, OrderCancelled)}


def test_a_placement_that_lands_after_the_cancel_all_listed_is_cancelled_too(
    venue_url: str,
) -> None:
    # The venue handles each action a second late, so the placement rests after the
    # cancel-all's listing (not delayed) said the coin had nothing: the listing alone
    # would leave it resting with nobody to cancel it (a halted coin's last placement).
    harness = Harness(venue_url, clock=time.time_ns)  # its listings must be in the present
    bid = resting_bid(venue_url, 0xB3)
    fault(venue_url, {"delay_exchange_s": 1.0, "delay_for_s": 10})
    try:
        harness.run(
            PlaceOrders(orders=(bid,), ts_local=time.time_ns()),
            CancelAll(coin="BTC", reason=CancelReason.KILL_SWITCH, ts_local=0),
            together=True,
        )
    finally:
        fault(venue_url, {"delay_exchange_s": 0})

    user = Account.from_key(harness.key).address
    assert fetch_info_blocking(venue_url, {"type": "openOrders", "user": user}, timeout_s=5) == []


def test_a_halted_coins_queued_placement_is_refused_and_the_other_coins_go_out(
    venue_url: str,
) -> None:
    harness = Harness(venue_url, others=("ETH",))
    harness.gate.halt_coin("ETH")
    btc, eth = resting_bid(venue_url, 0xB4), eth_bid(venue_url, 0xE4)

    events = harness.run(PlaceOrders(orders=(btc, eth), ts_local=time.time_ns()))

    assert [e.cloid for e in events if isinstance(e, OrderAccepted)] == [btc.cloid]
    [refused] = [e for e in events if isinstance(e, OrderRejected)]
    assert (refused.cloid, refused.reason) == (eth.cloid, RejectReason.STOPPING)
    assert "ETH halted" in refused.message


def test_account_questions_asked_together_for_two_coins_are_one_listing_and_one_position(
    venue_url: str,
) -> None:
    harness, btc, eth = resting_on_two_coins(venue_url, 0xB5, 0xE5)
    spent, already = harness.budget.weight_spent, len(harness.emitted)

    events = harness.run(
        RequestAccountSnapshot(coin="BTC", ts_local=0),
        RequestAccountSnapshot(coin="ETH", ts_local=0),
        together=True,  # as two order_managers starting at once ask
    )[already:]

    listed = {
        e.coin: [o.cloid for o in e.orders] for e in events if isinstance(e, OpenOrdersReported)
    }
    assert listed == {"BTC": [btc.cloid], "ETH": [eth.cloid]}
    assert sorted(e.coin for e in events if isinstance(e, PositionReported)) == ["BTC", "ETH"]
    # One dex: one listing (20) and one position query (2); asked coin by coin it was 44.
    assert harness.budget.weight_spent - spent == 22


def test_account_questions_asked_together_share_a_lost_answer_rather_than_wait_forever(
    venue_url: str,
) -> None:
    async def ask_together() -> list[object]:
        rest = RestClient(venue_url, RateBudget(weight_per_minute=600), timeout_s=2.0)
        await rest.open()
        queries = AccountQueries(rest, user=Account.create().address, now_ns=time.time_ns)
        fault(venue_url, {"reset_next": 1, "paths": ["info"]})
        try:
            asked = (queries.fresh_snapshot(coin) for coin in ("BTC", "ETH"))
            return await asyncio.wait_for(asyncio.gather(*asked, return_exceptions=True), 5)
        finally:
            await rest.close()

    answers = asyncio.run(ask_together())

    assert [type(answer) for answer in answers] == [RequestLostError, RequestLostError], (
        "the question that joined is told of the loss, not left waiting"
    )


def test_a_closing_order_merged_with_a_quote_decided_before_the_stop_still_leaves(
    venue_url: str,
) -> None:
    # At a stop that flattens, one coin's last quote (decided before the stop) and another
    # coin's closing order can reach the venue's loop together and be merged into one
    # command. The gate judged the command whole: the quote had it refused, closing order
    # and all, and that coin's flatten waited a second more and spent one of its three tries.
    harness = Harness(venue_url, others=("ETH",), clock=time.time_ns)
    quote = resting_bid(venue_url, 0xB5)
    closing = replace(
        eth_bid(venue_url, 0xE5), tif=TimeInForce.IMMEDIATE_OR_CANCEL, reduce_only=True
    )
    harness.gate.close("stopping")
    merged = PlaceBatcher()
    merged.add(PlaceOrders(orders=(quote,), ts_local=time.time_ns()))
    merged.add(PlaceOrders(orders=(closing,), ts_local=time.time_ns()))

    events = harness.run(*merged.take())

    refused = {e.cloid for e in events if isinstance(e, OrderRejected)}
    stopping = {
        e.cloid
        for e in events
        if isinstance(e, OrderRejected) and e.reason is RejectReason.STOPPING
    }
    assert stopping == {quote.cloid}, "only the quote is refused at the gate"
    assert closing.cloid in refused, "the venue refuses a reduce-only order with no position"
    user = Account.from_key(harness.key).address.lower()
    assert [a["orders"] for a in actions(venue_url, user)] == [1], "the closing order left alone"


def test_the_margin_read_is_the_most_used_perp_dexs_not_only_the_first_coins(
    venue_url: str,
) -> None:
    # A position in xyz:TSLA uses the builder dex's margin only; BTC's dex has none used.
    # The margin poll read only the first coin's dex, and the risk guardian never saw it.
    harness = Harness(venue_url, others=("xyz:TSLA",), clock=time.time_ns)
    book = fetch_info_blocking(venue_url, {"type": "l2Book", "coin": "xyz:TSLA"}, timeout_s=5)
    assert isinstance(book, dict)
    best_ask = Decimal(book["levels"][1][0]["px"])
    take = OrderRequest(
        cloid=f"0x{0x75A:032x}",
        coin="xyz:TSLA",
        side=Side.BUY,
        price=(best_ask * Decimal("1.02")).quantize(Decimal("0.01")),
        size=Decimal("0.1"),
        tif=TimeInForce.IMMEDIATE_OR_CANCEL,
    )
    harness.run(PlaceOrders(orders=(take,), ts_local=time.time_ns()))
    already = len(harness.emitted)

    # One dex a poll, in turn: the builder dex's reading is in by the second.
    poll = RequestMargin(ts_local=time.time_ns())
    events = harness.run(poll, poll)[already:]

    margins = [e for e in events if isinstance(e, MarginReported)]
    assert [margin.margin_used > 0 for margin in margins] == [False, True], margins
