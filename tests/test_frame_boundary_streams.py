"""Streams are supervised: against a real WebSocket server on loopback, hostile messages
and failing code never end a stream, and every ending is reported as a disconnection."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from makerd.protocol.market import BookSnapshotReceived, FeedMessageDropped, VenueConnectionChanged
from makerd.venues.hyperliquid.feed import MarketFeed
from makerd.venues.hyperliquid.ws_connection import ReconnectingSocket, ReconnectPolicy

FAST = ReconnectPolicy(initial_backoff_s=0.01, max_backoff_s=0.05, short_session_s=0.0)
TIMEOUT_S = 30.0  # generous: the machine is shared


def _book_frame() -> str:
    now_ms = time.time_ns() // 1_000_000
    levels = [[{"px": "100.0", "sz": "1.0", "n": 1}], [{"px": "100.5", "sz": "2.0", "n": 1}]]
    return json.dumps(
        {"channel": "l2Book", "data": {"coin": "BTC", "time": now_ms, "levels": levels}}
    )


async def _with_server(
    handler: Callable[[ServerConnection], Awaitable[None]],
    body: Callable[[str], Awaitable[None]],
) -> None:
    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        await body(f"ws://127.0.0.1:{port}")


async def _wait_for(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def _stop(task: asyncio.Task[Any]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_binary_deep_and_unknown_frames_are_dropped_and_the_stream_carries_on() -> None:
    events: list[object] = []

    async def venue(ws: ServerConnection) -> None:
        await ws.recv()  # l2Book subscription
        await ws.recv()  # trades subscription
        await ws.send(b"\xff\xfe\x00\x81")
        await ws.send("[" * 100_000 + "]" * 100_000)
        await ws.send('{"channel": "candle", "data": {}}')
        await ws.send(_book_frame())
        await ws.wait_closed()

    async def body(url: str) -> None:
        feed = MarketFeed(
            ws_url=url, coins=("BTC",), sink=events.append, policy=FAST, now_ns=time.time_ns
        )
        task = asyncio.create_task(feed.run())
        await _wait_for(lambda: any(isinstance(e, BookSnapshotReceived) for e in events))
        await _stop(task)
        assert feed.socket.connections == 1

    asyncio.run(_with_server(venue, body))

    dropped = [e for e in events if isinstance(e, FeedMessageDropped)]
    assert [(e.stream, e.reason) for e in dropped] == [
        ("market", "not_utf8"),
        ("market", "too_deep"),
        ("market", "unknown_channel"),
    ]


def test_a_handler_that_raises_costs_one_frame_not_the_stream() -> None:
    seen: list[str] = []
    malformed: list[str] = []

    def on_frame(channel: str, data: object, _ts: int) -> None:
        seen.append(channel)
        if len(seen) == 1:
            raise RecursionError("a bug deep in a handler")

    async def venue(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(_book_frame())
        await ws.send(_book_frame())
        await ws.wait_closed()

    async def body(url: str) -> None:
        socket = ReconnectingSocket(
            name="user",
            url=url,
            subscriptions=({"type": "l2Book", "coin": "BTC"},),
            on_frame=on_frame,
            on_connected=lambda _n: None,
            on_malformed=lambda reason, _ts: malformed.append(reason),
            policy=FAST,
            now_ns=time.time_ns,
        )
        task = asyncio.create_task(socket.run())
        await _wait_for(lambda: len(seen) == 2)
        await _stop(task)
        assert socket.connections == 1

    asyncio.run(_with_server(venue, body))

    assert malformed == ["handler_error"]


def test_a_session_that_fails_is_reported_down_and_restarted() -> None:
    states: list[VenueConnectionChanged] = []
    connected: list[int] = []

    def on_connected(connection: int) -> None:
        connected.append(connection)
        if connection == 1:
            raise RuntimeError("a bug while resubscribing")

    async def venue(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async def body(url: str) -> None:
        socket = ReconnectingSocket(
            name="user",
            url=url,
            subscriptions=({"type": "userFills", "user": "0xabc"},),
            on_frame=lambda *_: None,
            on_connected=on_connected,
            on_malformed=lambda *_: None,
            policy=FAST,
            now_ns=time.time_ns,
            on_state=states.append,
        )
        task = asyncio.create_task(socket.run())
        await _wait_for(lambda: any(s.connected for s in states))
        await _stop(task)

    asyncio.run(_with_server(venue, body))

    assert connected[:2] == [1, 2]
    assert [(s.connected, s.reason) for s in states][:2] == [(False, "other"), (True, "")]


def test_a_silent_connection_is_reported_down_before_it_is_replaced() -> None:
    states: list[VenueConnectionChanged] = []
    policy = ReconnectPolicy(
        initial_backoff_s=0.01,
        max_backoff_s=0.05,
        short_session_s=0.0,
        ping_interval_s=0.05,
        silence_reconnect_s=0.2,
    )

    async def venue(ws: ServerConnection) -> None:
        async for _message in ws:  # subscriptions and pings, never any data
            pass

    async def body(url: str) -> None:
        socket = ReconnectingSocket(
            name="market",
            url=url,
            subscriptions=({"type": "l2Book", "coin": "BTC"},),
            on_frame=lambda *_: None,
            on_connected=lambda _n: None,
            on_malformed=lambda *_: None,
            policy=policy,
            now_ns=time.time_ns,
            on_state=states.append,
        )
        task = asyncio.create_task(socket.run())
        await _wait_for(lambda: sum(s.connected for s in states) >= 2)
        await _stop(task)

    asyncio.run(_with_server(venue, body))

    assert [(s.connected, s.reason) for s in states][:3] == [
        (True, ""),
        (False, "timeout"),
        (True, ""),
    ]
