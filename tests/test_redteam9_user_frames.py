"""Several coins, one user stream: fill pushes that name the wrong coin are counted and
dropped, never booked to a coin they do not belong to.

The stream comes from a WebSocket server on loopback that pushes what the exchange never
would; the queries (the connection's repair) go to the local venue.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from decimal import Decimal

from websockets.asyncio.server import ServerConnection, serve

from makerd.protocol.account import OrderFilled
from makerd.protocol.market import FeedMessageDropped
from makerd.protocol.orders import OrderAccepted, OrderModified, OrderRequest
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.account_queries import AccountQueries
from makerd.venues.hyperliquid.rate_budget import RateBudget
from makerd.venues.hyperliquid.rest import RestClient
from makerd.venues.hyperliquid.state import OrderLegs
from makerd.venues.hyperliquid.user_stream import UserStream
from tests.local_venue_kit import still_venue
from tests.test_user_stream_repairs import FAST, TIMEOUT_S, _Tasks

ETH_CLOID = "0x" + "ab" * 8 + "01" + "00" * 6 + "01"
ETH_OID = 777
USER = "0x" + "5e" * 20


def _push(user: str, *, coin: str, oid: int, tid: int, px: str) -> str:
    fill = {
        "coin": coin, "px": px, "sz": "0.01", "side": "B", "time": time.time_ns() // 1_000_000,
        "startPosition": "0", "dir": "Open Long", "closedPnl": "0", "hash": "0x" + "cd" * 32,
        "oid": oid, "crossed": False, "fee": "0", "feeToken": "USDC", "tid": tid,
    }  # fmt: skip
    return json.dumps({"channel": "userFills", "data": {"user": user, "fills": [fill]}})


def _eth_order(*, opened: bool) -> OrderLegs:
    """The venue layer's record of one ETH order of this run: placed, and resting under
    ``ETH_OID`` when ``opened``."""
    legs = OrderLegs()
    request = OrderRequest(
        cloid=ETH_CLOID, coin="ETH", side=Side.SELL, price=Decimal(3000), size=Decimal("0.01")
    )
    legs.placing(request)
    if opened:
        legs.opened(ETH_CLOID, ETH_OID, heard_ns=time.time_ns())
    return legs


def _stream(
    frames: list[str], legs: OrderLegs, *, until: Callable[[list[object]], bool]
) -> list[object]:
    """What a three-coin user stream emits (events and fills, in order) for ``frames``
    pushed by a loopback server, its repairs asked of a local venue."""
    out: list[object] = []

    async def server(ws: ServerConnection) -> None:
        for _ in range(3):
            await ws.recv()  # the three subscriptions
        for frame in frames:
            await ws.send(frame)
        await ws.wait_closed()

    async def scenario(venue_url: str) -> None:
        rest = RestClient(venue_url, RateBudget(weight_per_minute=600), timeout_s=5.0)
        await rest.open()
        tasks = _Tasks()
        async with serve(server, "127.0.0.1", 0) as served:
            port = next(iter(served.sockets)).getsockname()[1]
            stream = UserStream(
                ws_url=f"ws://127.0.0.1:{port}",
                coin="BTC",
                others=("ETH", "xyz:TSLA"),
                queries=AccountQueries(rest, user=USER, now_ns=time.time_ns),
                legs=legs,
                emit=out.append,
                emit_fill=out.append,
                tasks=tasks,
                policy=FAST,
                now_ns=time.time_ns,
            )
            tasks.spawn(stream.run(), name="stream")
            deadline = time.monotonic() + TIMEOUT_S
            while not until(out) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)  # anything pushed behind the last frame has arrived
            for task in tasks.running:
                task.cancel()
            await asyncio.gather(*tasks.running, return_exceptions=True)
        await rest.close()

    with still_venue(seed=5) as venue_url:
        asyncio.run(scenario(venue_url))
    return out


def _dropped(out: list[object]) -> list[tuple[str, str, str]]:
    return [(d.stream, d.channel, d.reason) for d in out if isinstance(d, FeedMessageDropped)]


def test_fill_pushes_of_the_wrong_coin_are_counted_and_dropped_the_real_one_booked() -> None:
    hostile = [
        _push(USER, coin="NOPE", oid=1, tid=1, px="100"),  # a coin no venue lists
        _push(USER, coin="TSLA", oid=2, tid=2, px="250"),  # the builder dex's, unprefixed
        _push(USER, coin="DOGE", oid=3, tid=3, px="0.1"),  # listed, not traded here
        _push(USER, coin="BTC", oid=ETH_OID, tid=4, px="3000"),  # ETH's order, named BTC
    ]
    real = _push(USER, coin="ETH", oid=ETH_OID, tid=5, px="3000")

    def booked(out: list[object]) -> list[tuple[str, str]]:
        return [(f.coin, f.trade_id) for f in out if isinstance(f, OrderFilled)]

    out = _stream([*hostile, real], _eth_order(opened=True), until=lambda out: bool(booked(out)))

    assert booked(out) == [("ETH", "ETH:5")]
    assert _dropped(out) == [("user", "userFills", "wrong_coin")] * 4, out


def _order_update(*, coin: str, oid: int) -> str:
    now_ms = time.time_ns() // 1_000_000
    order = {"coin": coin, "side": "A", "limitPx": "3000", "sz": "0.01", "oid": oid,
             "timestamp": now_ms, "origSz": "0.01", "cloid": ETH_CLOID}  # fmt: skip
    status = {"order": order, "status": "open", "statusTimestamp": now_ms}
    return json.dumps({"channel": "orderUpdates", "data": [status]})


def test_an_update_naming_an_eth_order_under_btc_is_dropped_and_the_real_one_accepted() -> None:
    forged = _order_update(coin="BTC", oid=999)
    real = _order_update(coin="ETH", oid=ETH_OID)

    def orders(out: list[object]) -> list[OrderAccepted | OrderModified]:
        return [e for e in out if isinstance(e, OrderAccepted | OrderModified)]

    out = _stream([forged, real], _eth_order(opened=False), until=lambda out: bool(orders(out)))

    assert [
        (type(e).__name__, getattr(e, "coin", None), e.venue_order_id) for e in orders(out)
    ] == [("OrderAccepted", "ETH", ETH_OID)]
    assert _dropped(out) == [("user", "orderUpdates", "wrong_coin")], out
