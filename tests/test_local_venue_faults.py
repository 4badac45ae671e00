"""Each fault armed through POST /_debug/faults does what a resilient client must survive."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from eth_account.signers.local import LocalAccount
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.error import ClientError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from makerd.venues.hl_local import VenueConfig, VenueThread
from tests.local_venue_kit import (
    ALO,
    GTC,
    an_order,
    arm,
    channels_within,
    ping_and_drain,
    receive_until_closed,
    subscribe,
)

IOC: Any = {"limit": {"tif": "Ioc"}}
MARKET_CHANNELS = frozenset({"l2Book", "bbo", "trades", "allMids"})


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    running = VenueThread(VenueConfig(port=0, auto_provision=True, seed=5, tick_interval_s=0.1))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def socket(venue: VenueThread) -> Iterator[ClientConnection]:
    with connect(venue.url.replace("http", "ws", 1) + "/ws") as connection:
        yield connection


def test_dropping_connections_closes_every_open_websocket(
    venue: VenueThread, socket: ClientConnection
) -> None:
    subscribe(socket, {"type": "l2Book", "coin": "BTC"})
    ping_and_drain(socket)

    reply = arm(venue, drop_connections=True)

    with pytest.raises(ConnectionClosed):
        receive_until_closed(socket)
    assert reply.json()["dropped"] >= 1


def test_a_frozen_feed_stops_market_data_but_still_answers_pings_then_resumes(
    venue: VenueThread, socket: ClientConnection
) -> None:
    subscribe(socket, {"type": "l2Book", "coin": "BTC"})
    subscribe(socket, {"type": "trades", "coin": "BTC"})
    ping_and_drain(socket)

    arm(venue, freeze_feed_s=1.0)
    ping_and_drain(socket)
    during = channels_within(socket, 0.6)
    socket.send(json.dumps({"method": "ping"}))
    after = channels_within(socket, 1.0)

    assert not MARKET_CHANNELS & set(during)
    assert "pong" in after
    assert "l2Book" in after


def test_the_next_actions_are_rejected_with_the_armed_text(
    venue: VenueThread, exchange: Exchange
) -> None:
    arm(venue, reject_next=2, reject_text="Trading is halted.")

    first, second, third = an_order(exchange), an_order(exchange), an_order(exchange)

    assert first == {"status": "err", "response": "Trading is halted."}
    assert second == first
    assert third["status"] == "ok"


def test_the_next_action_is_refused_with_the_address_rate_limit_text(
    venue: VenueThread, exchange: Exchange
) -> None:
    arm(venue, rate_limit_next=1)

    limited, after = an_order(exchange), an_order(exchange)

    assert limited["status"] == "err"
    assert limited["response"].startswith("Too many cumulative requests sent (")
    assert limited["response"].endswith("Place taker orders to free up 1 request per USDC traded.")
    assert after["status"] == "ok"


def test_the_rate_limit_can_be_an_http_429(venue: VenueThread, exchange: Exchange) -> None:
    arm(venue, rate_limit_next=1, rate_limit_http_429=True)

    with pytest.raises(ClientError) as refused:
        an_order(exchange)

    assert refused.value.status_code == 429


def test_a_price_jump_moves_the_mid_and_fills_resting_orders_it_crosses(
    venue: VenueThread, exchange: Exchange, wallet: LocalAccount
) -> None:
    info = Info(venue.url, skip_ws=True)
    mid_before = Decimal(info.all_mids()["ETH"])
    ask_price = float((mid_before * Decimal("1.005")).quantize(Decimal("0.1")))
    resting = exchange.order("ETH", False, 0.01, ask_price, ALO)
    oid = resting["response"]["data"]["statuses"][0]["resting"]["oid"]

    arm(venue, jump_pct=2, coin="ETH")
    mid_after = Decimal(info.all_mids()["ETH"])
    status = info.query_order_by_oid(wallet.address, oid)

    assert mid_after / mid_before > Decimal("1.015")
    assert status["order"]["status"] == "filled"
    assert info.user_fills(wallet.address)[0]["crossed"] is False


def test_an_invalid_fault_body_lists_every_problem(venue: VenueThread) -> None:
    body: dict[str, Any] = {"reject_next": -1, "coin": "XRP", "jump": 5}

    reply = requests.post(f"{venue.url}/_debug/faults", json=body, timeout=5)

    assert reply.status_code == 400
    assert sorted(reply.json()["problems"]) == [
        "coin: 'XRP' is not listed (one of BTC, ETH, DOGE, xyz:TSLA)",
        "jump: unknown key",
        "reject_next: expected a non-negative integer",
    ]


def test_an_account_funded_through_the_admin_path_can_trade_where_strangers_cannot(
    wallet: LocalAccount,
) -> None:
    strict = VenueThread(VenueConfig(port=0, seed=7))
    url = strict.start()
    try:
        exchange = Exchange(wallet, url)
        before = an_order(exchange)
        funded = requests.post(
            f"{url}/_debug/accounts", json={"address": wallet.address, "usdc": "5000"}, timeout=5
        )
        after = an_order(exchange)
        balance = Info(url, skip_ws=True).user_state(wallet.address)["marginSummary"]
    finally:
        strict.stop()

    assert before == {
        "status": "err",
        "response": f"User or API Wallet {wallet.address.lower()} does not exist.",
    }
    assert funded.json() == {"status": "ok", "address": wallet.address.lower()}
    assert after["status"] == "ok"
    assert balance["accountValue"] == "5000.0"


def test_lost_order_updates_never_reach_the_user_stream_while_its_fills_still_do(
    venue: VenueThread, exchange: Exchange, wallet: LocalAccount, socket: ClientConnection
) -> None:
    user = wallet.address.lower()
    subscribe(socket, {"type": "orderUpdates", "user": user})
    subscribe(socket, {"type": "userFills", "user": user})
    ping_and_drain(socket)

    arm(venue, lose_order_updates_s=30.0)
    an_order(exchange)
    swept = arm(venue, sweep={"user": user, "side": "sell", "coin": "BTC"}).json()["swept"]
    heard = channels_until(socket, "userFills")
    arm(venue, clear=True)

    assert swept == 1
    assert "orderUpdates" not in heard, "neither the order's rest nor its fill was pushed"


def channels_until(connection: ClientConnection, last: str) -> list[str]:
    """Every channel received up to the first ``last`` (pushed in the same batch as the
    order updates it follows); a 5 s silence fails the test."""
    channels: list[str] = []
    while not channels or channels[-1] != last:
        channels.append(json.loads(connection.recv(timeout=5))["channel"])
    return channels


def test_an_open_interest_cap_refuses_orders_that_could_grow_a_position_until_it_lifts(
    venue: VenueThread, exchange: Exchange
) -> None:
    mid = Decimal(Info(venue.url, skip_ws=True).all_mids()["BTC"])
    bought = exchange.order("BTC", True, 0.001, float(round(mid * Decimal("1.02"))), IOC)
    assert "filled" in bought["response"]["data"]["statuses"][0], bought  # long 0.001
    far_ask = float(round(mid * Decimal("1.2")))

    arm(venue, open_interest_cap_s=30, coin="BTC")
    grow = an_order(exchange)
    flip = exchange.order("BTC", False, 0.002, far_ask, GTC)
    reduce = exchange.order("BTC", False, 0.001, far_ask, GTC)
    arm(venue, open_interest_cap_s=0, coin="BTC")
    after = an_order(exchange)

    capped = "Order would increase open interest while open interest is capped. asset=0"
    assert grow["response"]["data"]["statuses"] == [{"error": capped}]
    assert flip["response"]["data"]["statuses"] == [{"error": capped}]
    assert "resting" in reduce["response"]["data"]["statuses"][0], reduce
    assert "resting" in after["response"]["data"]["statuses"][0], after


def test_a_halt_refuses_every_order_of_the_coin_until_it_lifts(
    venue: VenueThread, exchange: Exchange
) -> None:
    arm(venue, halt_s=30, coin="BTC")
    during = an_order(exchange)
    arm(venue, halt_s=0, coin="BTC")
    after = an_order(exchange)

    assert during["response"]["data"]["statuses"] == [{"error": "Trading is halted. asset=0"}]
    assert "resting" in after["response"]["data"]["statuses"][0], after
