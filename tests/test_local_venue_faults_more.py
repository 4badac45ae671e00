"""Transport, stream, taker and dead-man faults, and the per-account record for assertions."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
import requests
from eth_account.signers.local import LocalAccount
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.error import ClientError, ServerError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from makerd.venues.hl_local import VenueConfig, VenueThread
from tests.local_venue_kit import (
    ALO,
    account_record,
    an_order,
    arm,
    ping_and_drain,
    receive_until_closed,
    resting_oid,
    subscribe,
)


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    running = VenueThread(VenueConfig(port=0, auto_provision=True, seed=11, tick_interval_s=0.1))
    running.start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def disarmed(venue: VenueThread) -> Iterator[None]:
    """Each test starts and ends with no fault armed."""
    arm(venue, clear=True)
    yield
    arm(venue, clear=True)


@pytest.fixture
def info(venue: VenueThread) -> Info:
    return Info(venue.url, skip_ws=True)


def websocket(venue: VenueThread) -> ClientConnection:
    return connect(venue.url.replace("http", "ws", 1) + "/ws")


def post_info(venue: VenueThread, body: dict[str, Any] | None = None) -> requests.Response:
    return requests.post(f"{venue.url}/info", json=body or {"type": "allMids"}, timeout=10)


def timed(call: Callable[[], object]) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def wait_until(condition: Callable[[], bool], *, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.05)


def test_an_exchange_delay_slows_each_action_which_takes_effect_after_it(
    venue: VenueThread, exchange: Exchange, info: Info, wallet: LocalAccount
) -> None:
    arm(venue, delay_exchange_s=0.4, delay_for_s=30)

    started = time.monotonic()
    placed = an_order(exchange)
    elapsed = time.monotonic() - started
    info_s = timed(lambda: post_info(venue))

    order = info.query_order_by_oid(wallet.address, resting_oid(placed))["order"]["order"]
    arrived_ms = account_record(venue, wallet.address)["actions"][-1]["time_ms"]
    arm(venue, clear=True)
    cleared_s = timed(lambda: an_order(exchange))

    assert elapsed >= 0.4
    assert order["timestamp"] - arrived_ms >= 399  # both in whole venue milliseconds
    assert info_s < 0.4
    assert cleared_s < 0.4


def test_a_held_answer_comes_after_its_action_took_effect_and_was_streamed(
    venue: VenueThread, exchange: Exchange, info: Info, wallet: LocalAccount
) -> None:
    arm(venue, hold_answer_next=1, hold_answer_s=3.0)
    placed: list[Any] = []
    placing = threading.Thread(target=lambda: placed.append(an_order(exchange)))

    placing.start()
    wait_until(lambda: info.open_orders(wallet.address) != [])
    answered_while_resting = not placing.is_alive()
    placing.join(timeout=10)

    assert not answered_while_resting, "the order rested before its answer came"
    resting = [o["oid"] for o in info.open_orders(wallet.address)]
    assert resting == [resting_oid(placed[0])], "the answer, late, names the order that rests"


def test_a_cut_answer_leaves_out_items_that_took_effect(
    venue: VenueThread, exchange: Exchange, info: Info, wallet: LocalAccount
) -> None:
    arm(venue, cut_statuses_next=1, cut_statuses_keep=1)
    bids = [
        {"coin": "BTC", "is_buy": True, "sz": 0.001, "limit_px": price, "order_type": ALO,
         "reduce_only": False}
        for price in (60000.0, 59000.0)
    ]  # fmt: skip

    cut = exchange.bulk_orders(bids)
    whole = an_order(exchange)

    statuses = cut["response"]["data"]["statuses"]
    assert [s["resting"]["oid"] for s in statuses] == [resting_oid(cut)], "the first only"
    resting = sorted(float(o["limitPx"]) for o in info.open_orders(wallet.address))
    assert resting == [59000.0, 60000.0, 60000.0], "both bids of the cut answer rest"
    assert len(whole["response"]["data"]["statuses"]) == 1, "the next answer is whole"


def test_held_stream_news_of_an_action_comes_after_its_answer(
    venue: VenueThread, exchange: Exchange, wallet: LocalAccount
) -> None:
    with websocket(venue) as user:
        subscribe(user, {"type": "orderUpdates", "user": wallet.address})
        ping_and_drain(user)
        arm(venue, hold_stream_next=1, hold_stream_s=3.0)

        placed = an_order(exchange)
        heard_with_answer = channels_before_pong(user)
        update = json.loads(user.recv(timeout=10))

    assert "orderUpdates" not in heard_with_answer, "the answer came first"
    assert update["channel"] == "orderUpdates"
    assert [u["order"]["oid"] for u in update["data"]] == [resting_oid(placed)]


def channels_before_pong(connection: ClientConnection) -> list[str]:
    """The channels of the frames the server sent before it answered a ping sent now."""
    connection.send(json.dumps({"method": "ping"}))
    channels = []
    while (channel := json.loads(connection.recv(timeout=3))["channel"]) != "pong":
        channels.append(channel)
    return channels


def test_an_info_delay_lasts_for_its_window_then_answers_are_prompt_again(
    venue: VenueThread,
) -> None:
    arm(venue, delay_info_s=0.3, delay_for_s=1.0)

    slow = timed(lambda: post_info(venue).raise_for_status())

    assert slow >= 0.3
    wait_until(lambda: timed(lambda: post_info(venue).raise_for_status()) < 0.2)


def test_the_next_http_error_answers_502_and_does_nothing(
    venue: VenueThread, exchange: Exchange, info: Info, wallet: LocalAccount
) -> None:
    arm(venue, http_error_next=1, paths=["exchange"])

    untouched = post_info(venue)
    with pytest.raises(ServerError) as failed:
        an_order(exchange)
    open_after_error = info.open_orders(wallet.address)
    after = an_order(exchange)

    assert untouched.status_code == 200
    assert failed.value.status_code == 502
    assert failed.value.message == "Bad Gateway"
    assert open_after_error == []
    assert after["status"] == "ok"


def test_a_reset_exchange_request_is_a_connection_error_and_places_nothing(
    venue: VenueThread, exchange: Exchange, info: Info, wallet: LocalAccount
) -> None:
    arm(venue, reset_next=1, paths=["exchange"])

    with pytest.raises(requests.ConnectionError):
        an_order(exchange)

    assert info.open_orders(wallet.address) == []
    assert an_order(exchange)["status"] == "ok"


def test_a_reset_info_request_is_a_connection_error_for_aiohttp_too(venue: VenueThread) -> None:
    async def query() -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{venue.url}/info", json={"type": "allMids"}) as reply,
        ):
            return reply.status

    arm(venue, reset_next=1, paths=["info"])

    with pytest.raises(aiohttp.ClientConnectionError):
        asyncio.run(query())
    assert asyncio.run(query()) == 200


def test_an_ip_rate_limit_answers_429_everywhere_until_it_ends(
    venue: VenueThread, exchange: Exchange
) -> None:
    arm(venue, rate_limit_for_s=1.0, rate_limit_kind="ip")

    limited = post_info(venue)
    with pytest.raises(ClientError) as refused:
        an_order(exchange)

    assert limited.status_code == 429
    assert refused.value.status_code == 429
    wait_until(lambda: post_info(venue).status_code == 200)
    assert an_order(exchange)["status"] == "ok"


def test_an_address_rate_limit_window_refuses_every_action_but_not_info(
    venue: VenueThread, exchange: Exchange
) -> None:
    arm(venue, rate_limit_for_s=1.0)

    first, second = an_order(exchange), an_order(exchange)

    for limited in (first, second):
        assert limited["status"] == "err"
        assert limited["response"].startswith("Too many cumulative requests sent (")
    assert post_info(venue).status_code == 200
    wait_until(lambda: an_order(exchange)["status"] == "ok")


def test_dropping_the_user_stream_closes_user_sockets_and_keeps_market_ones(
    venue: VenueThread, wallet: LocalAccount
) -> None:
    with websocket(venue) as market, websocket(venue) as user:
        subscribe(market, {"type": "l2Book", "coin": "BTC"})
        subscribe(user, {"type": "orderUpdates", "user": wallet.address})
        subscribe(user, {"type": "trades", "coin": "BTC"})
        ping_and_drain(market)
        ping_and_drain(user)

        reply = arm(venue, drop_stream="user")

        with pytest.raises(ConnectionClosed):
            receive_until_closed(user)
        ping_and_drain(market)  # still open and answering
        assert reply.json()["dropped"] >= 1


def test_a_sweep_fills_the_users_resting_asks_at_their_own_prices(
    venue: VenueThread, exchange: Exchange, info: Info, wallet: LocalAccount
) -> None:
    mid = Decimal(info.all_mids()["ETH"])
    ask_prices = [(mid * Decimal(f)).quantize(Decimal("0.1")) for f in ("1.005", "1.006")]
    bid_price = (mid * Decimal("0.99")).quantize(Decimal("0.1"))
    asks = [exchange.order("ETH", False, 0.01, float(px), ALO) for px in ask_prices]
    bid = exchange.order("ETH", True, 0.01, float(bid_price), ALO)

    reply = arm(venue, sweep={"user": wallet.address, "side": "buy", "coin": "ETH"})
    fills = info.user_fills(wallet.address)
    record = account_record(venue, wallet.address)

    assert reply.json()["swept"] == 2
    assert sorted(Decimal(fill["px"]) for fill in fills) == ask_prices
    assert {(fill["side"], fill["crossed"]) for fill in fills} == {("A", False)}
    assert {fill["oid"] for fill in record["fills"]} == {resting_oid(ask) for ask in asks}
    assert all(Decimal(fill["fee"]) > 0 for fill in record["fills"])
    assert Decimal(record["position"]["ETH"]) == Decimal("-0.02")
    assert [order["oid"] for order in info.open_orders(wallet.address)] == [resting_oid(bid)]
    assert record["open_orders"] == 1


def test_firing_the_scheduled_cancel_leaves_no_open_order(
    venue: VenueThread, exchange: Exchange, info: Info, wallet: LocalAccount
) -> None:
    armed = exchange.schedule_cancel(int(time.time() * 1000) + 60_000)
    placed = [an_order(exchange), an_order(exchange)]

    fired = arm(venue, fire_scheduled_cancel=True, user=wallet.address)
    again = arm(venue, fire_scheduled_cancel=True, user=wallet.address)

    assert armed["status"] == "ok"
    assert fired.json()["fired"] == [wallet.address.lower()]
    assert again.json()["fired"] == []  # a fired switch is spent, as on the exchange
    assert info.open_orders(wallet.address) == []
    status = info.query_order_by_oid(wallet.address, resting_oid(placed[0]))
    assert status["order"]["status"] == "scheduledCancel"
    assert account_record(venue, wallet.address)["open_orders"] == 0


def test_a_rejection_by_action_type_refuses_only_that_type(
    venue: VenueThread, exchange: Exchange, wallet: LocalAccount
) -> None:
    arm(venue, reject_next=1, reject_action_type="scheduleCancel", reject_text="Not now.")
    in_a_minute = int(time.time() * 1000) + 60_000

    placed = an_order(exchange)
    refused = exchange.schedule_cancel(in_a_minute)
    armed = exchange.schedule_cancel(in_a_minute)

    assert placed["status"] == "ok"
    assert refused == {"status": "err", "response": "Not now."}
    assert armed["status"] == "ok"
    actions = account_record(venue, wallet.address)["actions"]
    assert [(a["type"], a["orders"], a["accepted"]) for a in actions] == [
        ("order", 1, True),
        ("scheduleCancel", 0, False),
        ("scheduleCancel", 0, True),
    ]


def test_invalid_new_fault_values_answer_400_naming_each_key(venue: VenueThread) -> None:
    body: dict[str, Any] = {
        "delay_exchange_s": -1,
        "delay_info_s": "slow",
        "freeze_feed_s": float("inf"),
        "http_error_next": 1,
        "http_error_status": 404,
        "reset_next": 1.5,
        "paths": ["ws"],
        "rate_limit_for_s": 1,
        "rate_limit_kind": "both",
        "drop_stream": "some",
        "sweep": {"side": "up", "extra": 1},
        "reject_next": 1,
        "reject_action_type": "trade",
        "fire_scheduled_cancel": "yes",
    }
    lonely = {
        "delay_for_s": 5,
        "user": "0x1",
        "hold_answer_s": 1,
        "hold_stream_s": 1,
        "cut_statuses_keep": 1,
    }

    reply = requests.post(f"{venue.url}/_debug/faults", data=json.dumps(body), timeout=5)
    alone = requests.post(f"{venue.url}/_debug/faults", data=json.dumps(lonely), timeout=5)

    assert reply.status_code == 400
    problems = reply.json()["problems"]
    named = {problem.split(":")[0] for problem in problems}
    assert named == set(body) - {"http_error_next", "rate_limit_for_s", "reject_next", "sweep"} | {
        "sweep.side",
        "sweep.extra",
        "sweep.user",
    }
    assert "reset_next: expected a non-negative integer" in problems
    assert "http_error_status: expected an integer from 500 to 599, or 429" in problems
    assert alone.status_code == 400
    assert sorted(alone.json()["problems"]) == [
        "cut_statuses_keep: only with cut_statuses_next",
        "delay_for_s: only with delay_exchange_s or delay_info_s",
        "hold_answer_s: only with hold_answer_next",
        "hold_stream_s: only with hold_stream_next",
        "user: expected an address (0x and 40 hex digits)",
        "user: only with fire_scheduled_cancel",
    ]
