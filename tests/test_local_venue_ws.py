"""The local venue's /ws speaks the exchange's WebSocket protocol."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import eth_account
import pytest
from eth_account.signers.local import LocalAccount
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from makerd.venues.hl_local import VenueConfig, VenueThread
from tests.local_venue_kit import channels_within, receive_until_closed


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    running = VenueThread(VenueConfig(port=0, auto_provision=True, seed=3, tick_interval_s=0.1))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def socket(venue: VenueThread) -> Iterator[ClientConnection]:
    with connect(venue.url.replace("http", "ws", 1) + "/ws") as connection:
        yield connection


def send(connection: ClientConnection, message: dict[str, Any]) -> None:
    connection.send(json.dumps(message))


def next_frame(connection: ClientConnection, channel: str, timeout_s: float = 3.0) -> Any:
    """The next frame on ``channel``, skipping others (pushes interleave with replies)."""
    deadline = time.monotonic() + timeout_s
    while True:
        frame = json.loads(connection.recv(timeout=max(0.01, deadline - time.monotonic())))
        if frame["channel"] == channel:
            return frame


def test_sdk_l2_book_subscription_receives_successive_full_snapshots(venue: VenueThread) -> None:
    info = Info(venue.url, skip_ws=False)
    books: list[dict[str, Any]] = []
    two_books = threading.Event()

    def on_book(message: Any) -> None:
        books.append(message["data"])
        if len(books) >= 2:
            two_books.set()

    try:
        info.subscribe({"type": "l2Book", "coin": "BTC"}, on_book)
        received = two_books.wait(timeout=3)
    finally:
        info.disconnect_websocket()

    assert received
    assert all(book["coin"] == "BTC" and len(book["levels"][0]) == 20 for book in books)
    assert books[1]["time"] >= books[0]["time"]


def test_subscribe_is_acknowledged_with_the_normalized_subscription(
    socket: ClientConnection,
) -> None:
    send(socket, {"method": "subscribe", "subscription": {"type": "l2Book", "coin": "ETH"}})

    ack = next_frame(socket, "subscriptionResponse")
    book = next_frame(socket, "l2Book")

    assert ack["data"] == {
        "method": "subscribe",
        "subscription": {
            "type": "l2Book", "coin": "ETH", "nSigFigs": None, "mantissa": None, "fast": False,
        },
    }  # fmt: skip
    assert book["data"]["coin"] == "ETH"


def test_a_second_identical_subscription_and_a_bad_one_get_error_frames(
    socket: ClientConnection,
) -> None:
    subscription = {"type": "trades", "coin": "BTC"}
    send(socket, {"method": "subscribe", "subscription": subscription})
    send(socket, {"method": "subscribe", "subscription": subscription})
    send(socket, {"method": "subscribe", "subscription": {"type": "l2Book", "coin": "NOPE"}})

    duplicate = next_frame(socket, "error")
    invalid = next_frame(socket, "error")

    assert duplicate["data"].startswith("Already subscribed: ")
    assert invalid["data"].startswith("Invalid subscription ")


def first_frames(connection: ClientConnection, channels: set[str]) -> dict[str, Any]:
    """The first frame of each of ``channels``, whatever order they arrive in."""
    found: dict[str, Any] = {}
    deadline = time.monotonic() + 3.0
    while found.keys() != channels:
        frame = json.loads(connection.recv(timeout=max(0.01, deadline - time.monotonic())))
        if frame["channel"] in channels:
            found.setdefault(frame["channel"], frame)
    return found


def test_unsubscribe_is_acknowledged_and_stops_the_pushes(socket: ClientConnection) -> None:
    subscription = {"type": "allMids"}
    send(socket, {"method": "subscribe", "subscription": subscription})
    next_frame(socket, "allMids")

    send(socket, {"method": "unsubscribe", "subscription": subscription})
    ack = next_frame(socket, "subscriptionResponse")
    later = channels_within(socket, 0.5)

    assert ack["data"] == {"method": "unsubscribe", "subscription": {"type": "allMids"}}
    assert "allMids" not in later


def test_ping_gets_a_pong(socket: ClientConnection) -> None:
    send(socket, {"method": "ping"})

    assert json.loads(socket.recv(timeout=2)) == {"channel": "pong"}


def test_info_post_is_answered_with_the_exchange_wrapping(socket: ClientConnection) -> None:
    request = {"type": "info", "payload": {"type": "l2Book", "coin": "BTC"}}
    send(socket, {"method": "post", "id": 7, "request": request})

    reply = next_frame(socket, "post")

    assert reply["data"]["id"] == 7
    assert reply["data"]["response"]["type"] == "info"
    assert reply["data"]["response"]["payload"]["type"] == "l2Book"
    assert reply["data"]["response"]["payload"]["data"]["coin"] == "BTC"


def test_action_post_places_an_order_and_answers_like_exchange(socket: ClientConnection) -> None:
    wallet = eth_account.Account.create()
    action = {
        "type": "order",
        "orders": [{"a": 0, "b": True, "p": "50000", "s": "0.001", "r": False,
                    "t": {"limit": {"tif": "Gtc"}}}],
        "grouping": "na",
    }  # fmt: skip
    nonce = get_timestamp_ms()
    payload = {
        "action": action,
        "nonce": nonce,
        "signature": sign_l1_action(wallet, action, None, nonce, None, False),
        "vaultAddress": None,
    }
    send(socket, {"method": "post", "id": 256, "request": {"type": "action", "payload": payload}})

    reply = next_frame(socket, "post")

    response = reply["data"]["response"]
    assert reply["data"]["id"] == 256
    assert response["type"] == "action"
    assert response["payload"]["status"] == "ok"
    assert "resting" in response["payload"]["response"]["data"]["statuses"][0]


def test_user_streams_push_the_snapshot_order_updates_and_fills_of_the_user(
    venue: VenueThread, socket: ClientConnection
) -> None:
    wallet: LocalAccount = eth_account.Account.create()
    user = wallet.address.lower()
    for kind in ("userFills", "orderUpdates", "userEvents"):
        send(socket, {"method": "subscribe", "subscription": {"type": kind, "user": user}})
    snapshot = next_frame(socket, "userFills")
    exchange = Exchange(wallet, venue.url)
    best_ask = Decimal(Info(venue.url, skip_ws=True).l2_snapshot("ETH")["levels"][1][0]["px"])

    result = exchange.order("ETH", True, 0.01, float(best_ask + 5), {"limit": {"tif": "Ioc"}})
    frames = first_frames(socket, {"userFills", "orderUpdates", "user"})
    fills, updates, events = frames["userFills"], frames["orderUpdates"], frames["user"]

    oid = result["response"]["data"]["statuses"][0]["filled"]["oid"]
    assert snapshot["data"] == {"isSnapshot": True, "user": user, "fills": []}
    assert "isSnapshot" not in fills["data"]
    assert {fill["oid"] for fill in fills["data"]["fills"]} == {oid}
    assert updates["data"][-1]["order"]["oid"] == oid
    assert updates["data"][-1]["status"] == "filled"
    assert events["data"]["fills"] == fills["data"]["fills"]


def test_a_silent_connection_is_closed_after_the_idle_timeout() -> None:
    impatient = VenueThread(VenueConfig(port=0, auto_provision=True, seed=4, ws_idle_timeout_s=0.5))
    url = impatient.start()
    try:
        with connect(url.replace("http", "ws", 1) + "/ws") as connection:
            started = time.monotonic()
            with pytest.raises(ConnectionClosed):
                receive_until_closed(connection)
            elapsed = time.monotonic() - started
    finally:
        impatient.stop()

    assert 0.4 < elapsed < 3


def test_the_dead_man_switch_cancels_every_order_at_its_time(venue: VenueThread) -> None:
    wallet: LocalAccount = eth_account.Account.create()
    exchange = Exchange(wallet, venue.url)
    info = Info(venue.url, skip_ws=False)
    cancelled = threading.Event()
    statuses: list[str] = []

    def on_updates(message: Any) -> None:
        statuses.extend(update["status"] for update in message["data"])
        if "scheduledCancel" in statuses:
            cancelled.set()

    try:
        info.subscribe({"type": "orderUpdates", "user": wallet.address}, on_updates)
        exchange.order("BTC", True, 0.001, 60000.0, {"limit": {"tif": "Gtc"}})
        armed = exchange.schedule_cancel(get_timestamp_ms() + 5_100)
        fired = cancelled.wait(timeout=8)
    finally:
        info.disconnect_websocket()

    assert armed == {"status": "ok", "response": {"type": "default"}}
    assert fired
    assert Info(venue.url, skip_ws=True).open_orders(wallet.address) == []
