"""A proxy between makerd and the local venue that adds hostile frames to real traffic.

Every real frame and every HTTP request passes through unchanged; the hostile frames are
built from the latest real frame of the channel (so they look like real traffic): binary,
100k-deep JSON, not JSON, unknown channels, missing fields, other and unlisted coins,
times a day and 10^30 ms ahead, crossed books, zero and absurd prices and sizes, books at
twice the real price, impossible fills. It counts what it sent by the reason makerd must
count each under.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import aiohttp
from aiohttp import web

TOTAL = 10_500
BURST = 6
PAUSE_S = 0.005
DAY_MS = 86_400_000
_SHUTDOWN_TIMEOUT_S = 2.0  # a stopped proxy cuts a relay still open rather than wait 60 s

# kind → (the reason makerd must count it under); heavy kinds appear less often.
MARKET_KINDS = {
    "binary": "not_utf8",
    "deep_json": "too_deep",
    "not_json": "not_json",
    "unknown_channel": "unknown_channel",
    "missing_fields": "missing_field",
    "wrong_coin": "wrong_coin",
    "unknown_coin": "unknown_coin",
    "future_time": "future_time",
    "huge_time": "future_time",
    "crossed_book": "crossed_book",
    "zero_price": "bad_price",
    "zero_size": "bad_size",
    "huge_price": "bad_price",
    "long_price": "bad_price",
    "double_price": "out_of_band",
}
USER_KINDS = {
    "binary": "not_utf8",
    "not_json": "not_json",
    "unknown_channel": "unknown_channel",
    "missing_fields": "missing_field",
    "zero_fill_price": "bad_price",
    "zero_fill_size": "bad_size",
    "huge_fill_time": "future_time",
    "long_fill_price": "bad_price",
    "zero_order_price": "bad_price",
}
HEAVY = {"deep_json", "long_price", "long_fill_price"}


HEAVY_EVERY = 250  # a megabyte each: a few dozen prove the point without flooding loopback


def _kind(kinds: dict[str, str], index: int) -> str:
    heavy = [kind for kind in kinds if kind in HEAVY]
    light = [kind for kind in kinds if kind not in HEAVY]
    if heavy and index % HEAVY_EVERY == HEAVY_EVERY - 1:
        return heavy[(index // HEAVY_EVERY) % len(heavy)]
    return light[index % len(light)]


def _fill_push(user: str, **overrides: object) -> dict[str, Any]:
    fill: dict[str, object] = {
        "coin": "BTC", "px": "100.0", "sz": "0.001", "side": "B",
        "time": time.time_ns() // 1_000_000, "startPosition": "0.0", "dir": "Open Long",
        "closedPnl": "0.0", "hash": "0x1", "oid": 1, "crossed": False, "fee": "0.0",
        "feeToken": "USDC", "tid": 1,
    }  # fmt: skip
    fill.update(overrides)
    return {"channel": "userFills", "data": {"user": user, "fills": [fill]}}


TOP_LEVEL_EDITS = {
    "zero_price": ("px", "0"),
    "huge_price": ("px", "9" * 400),
    "long_price": ("px", "1" * 1_000_000),
    "zero_size": ("sz", "0"),
}


def _market_frame(kind: str, book: dict[str, Any]) -> str | bytes:
    frame = copy.deepcopy(book)
    data = frame["data"]
    top = data["levels"][0][0]
    if kind == "binary":
        return b"\xff\xfe\x00\x81hostile"
    if kind == "deep_json":
        return "[" * 100_000 + "]" * 100_000
    if kind == "not_json":
        return '{"channel": "l2Book", "data": '
    if kind == "unknown_channel":
        frame["channel"] = "candle"
    elif kind == "missing_fields":
        del data["levels"]
    elif kind in {"wrong_coin", "unknown_coin"}:
        data["coin"] = "ETH" if kind == "wrong_coin" else "NOPE"
    elif kind in {"future_time", "huge_time"}:
        data["time"] = data["time"] + DAY_MS if kind == "future_time" else 10**30
    elif kind == "crossed_book":
        top["px"] = str(Decimal(data["levels"][1][0]["px"]) + 1)
    elif kind in TOP_LEVEL_EDITS:
        key, value = TOP_LEVEL_EDITS[kind]
        top[key] = value
    elif kind == "double_price":
        for side in data["levels"]:
            for level in side:
                level["px"] = str(Decimal(level["px"]) * 2)
    return json.dumps(frame)


def _user_frame(kind: str, user: str) -> str | bytes:
    if kind == "binary":
        return b"\x80\x81\xfe"
    if kind == "not_json":
        return '{"channel": "userFills", "data": {'
    if kind == "unknown_channel":
        return json.dumps({"channel": "userTwapHistory", "data": {}})
    if kind == "missing_fields":
        return json.dumps({"channel": "userFills", "data": {"user": user}})
    if kind == "zero_order_price":
        order = {"coin": "BTC", "side": "B", "limitPx": "0", "sz": "0.001", "oid": 1,
                 "timestamp": 1, "origSz": "0.001"}  # fmt: skip
        status = {"order": order, "status": "open", "statusTimestamp": time.time_ns() // 10**6}
        return json.dumps({"channel": "orderUpdates", "data": [status]})
    overrides: dict[str, object] = FILL_OVERRIDES[kind]
    return json.dumps(_fill_push(user, **overrides))


FILL_OVERRIDES: dict[str, dict[str, object]] = {
    "zero_fill_price": {"px": "0"},
    "zero_fill_size": {"sz": "0"},
    "huge_fill_time": {"time": 10**30},
    "long_fill_price": {"px": "1" * 1_000_000},
}


class HostileProxy:
    """HTTP passes through; WebSocket traffic passes through with hostile frames added."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.sent: Counter[tuple[str, str]] = Counter()  # (stream, kind)
        self.expected: Counter[str] = Counter()  # reason
        self._total = 0
        self.failures: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> str:
        self._thread.start()
        assert self._ready.wait(10)
        return self.url

    def stop(self) -> None:
        """Stop serving; the loop's thread then closes everything it opened (see ``_serve``)."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def done(self) -> bool:
        return self._total >= TOTAL

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._open())
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            # Stopping the loop alone left the session, its pooled upstream connection, the
            # listening socket and the loop open: "Unclosed client session" at the exit of
            # the pytest worker that ran this file.
            self._loop.run_until_complete(self._close())
            self._loop.close()

    async def _open(self) -> None:
        self._session = aiohttp.ClientSession()
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/info", self._http)
        app.router.add_post("/exchange", self._http)
        app.router.add_get("/ws", self._ws)
        runner = web.AppRunner(app, shutdown_timeout=_SHUTDOWN_TIMEOUT_S)
        self._runner = runner
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def _close(self) -> None:
        # The server first: its handlers reach the venue through the session.
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _http(self, request: web.Request) -> web.Response:
        body = await request.read()
        assert self._session is not None, "the proxy's session opens before it serves"
        async with self._session.post(
            self.upstream + request.path, data=body, headers={"Content-Type": "application/json"}
        ) as answer:
            return web.Response(
                body=await answer.read(), status=answer.status, content_type=answer.content_type
            )

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        down = web.WebSocketResponse(max_msg_size=0)
        await down.prepare(request)
        upstream = "ws" + self.upstream[len("http") :] + "/ws"
        state: dict[str, Any] = {"user": None, "book": None}
        assert self._session is not None, "the proxy's session opens before it serves"
        async with self._session.ws_connect(upstream, max_msg_size=0) as up:
            tasks = [
                asyncio.create_task(self._relay_up(down, up, state)),
                asyncio.create_task(self._relay_down(up, down, state)),
                asyncio.create_task(self._inject(down, state)),
            ]
            finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
            for task in finished:
                if task.exception() is not None:
                    self.failures.append(repr(task.exception()))
        return down

    async def _relay_up(self, down: Any, up: Any, state: dict[str, Any]) -> None:
        async for message in down:
            if message.type is aiohttp.WSMsgType.TEXT:
                request = json.loads(message.data)
                user = request.get("subscription", {}).get("user")
                if user:
                    state["user"] = user
                await up.send_str(message.data)

    async def _relay_down(self, up: Any, down: Any, state: dict[str, Any]) -> None:
        async for message in up:
            if message.type is aiohttp.WSMsgType.TEXT:
                if '"l2Book"' in message.data[:40]:
                    state["book"] = json.loads(message.data)
                await down.send_str(message.data)

    async def _inject(self, down: web.WebSocketResponse, state: dict[str, Any]) -> None:
        """Bursts of hostile frames; after the total the relays carry on alone."""
        sent_here = ticks = 0
        while True:
            await asyncio.sleep(PAUSE_S)
            ticks += 1
            user, book = state["user"], state["book"]
            if (user is None and book is None) or self.done:
                continue
            # The user stream gets one burst in eight: each bad fill costs makerd a REST repair.
            if user is not None and ticks % 8:
                continue
            stream, kinds = ("user", USER_KINDS) if user else ("market", MARKET_KINDS)
            for _ in range(BURST):
                kind = _kind(kinds, sent_here)
                frame = _user_frame(kind, user) if user else _market_frame(kind, book)
                if isinstance(frame, bytes):
                    await down.send_bytes(frame)
                else:
                    await down.send_str(frame)
                self.sent[(stream, kind)] += 1
                self.expected[kinds[kind]] += 1
                self._total += 1
                sent_here += 1
