"""Helpers shared by the local venue's tests: WebSocket reading and fault arming."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from hyperliquid.exchange import Exchange
from websockets.sync.client import ClientConnection

from makerd.venues.hl_local import LiquidityConfig, VenueConfig, VenueThread

GTC: Any = {"limit": {"tif": "Gtc"}}
ALO: Any = {"limit": {"tif": "Alo"}}


@contextmanager
def still_venue(
    seed: int, *, tick_interval_s: float = 0.1, ws_idle_timeout_s: float = 60.0
) -> Iterator[str]:
    """A local venue whose market stands still (no drift, no background takers), so its
    prices hold between calls; yields its URL. Each tick draws the levels' sizes anew: a
    long ``tick_interval_s`` keeps the very book it was seeded with. A WebSocket silent
    for ``ws_idle_timeout_s`` is closed by the venue."""
    still = LiquidityConfig(step_volatility_bps=0.0, taker_probability=0.0)
    config = VenueConfig(
        port=0,
        auto_provision=True,
        seed=seed,
        tick_interval_s=tick_interval_s,
        liquidity=still,
        ws_idle_timeout_s=ws_idle_timeout_s,
    )
    running = VenueThread(config)
    try:
        yield running.start()
    finally:
        running.stop()


def arm(venue: VenueThread, **fault: Any) -> requests.Response:
    """Arm faults through the admin path; any answer but 200 fails the test."""
    reply = requests.post(f"{venue.url}/_debug/faults", json=fault, timeout=5)
    reply.raise_for_status()
    return reply


def subscribe(connection: ClientConnection, subscription: dict[str, Any]) -> None:
    connection.send(json.dumps({"method": "subscribe", "subscription": subscription}))


def ping_and_drain(connection: ClientConnection) -> None:
    """Read up to our pong: whatever was queued before it is behind us."""
    connection.send(json.dumps({"method": "ping"}))
    while json.loads(connection.recv(timeout=3))["channel"] != "pong":
        pass


def an_order(exchange: Exchange) -> Any:
    """A BTC bid far below the market: it rests."""
    return exchange.order("BTC", True, 0.001, 60000.0, GTC)


def receive_until_closed(connection: ClientConnection) -> None:
    """Read (and discard) frames until the server closes; a 5 s silence fails the test."""
    while True:
        connection.recv(timeout=5)


def channels_within(connection: ClientConnection, window_s: float) -> list[str]:
    """Every channel received during ``window_s`` seconds."""
    deadline = time.monotonic() + window_s
    channels = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            channels.append(json.loads(connection.recv(timeout=left))["channel"])
        except TimeoutError:
            break
    return channels


def account_record(venue: VenueThread, user: str) -> Any:
    reply = requests.get(f"{venue.url}/_debug/account", params={"user": user}, timeout=5)
    reply.raise_for_status()
    return reply.json()


def resting_oid(reply: Any, index: int = 0) -> int:
    oid: int = reply["response"]["data"]["statuses"][index]["resting"]["oid"]
    return oid
