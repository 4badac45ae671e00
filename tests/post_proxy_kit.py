"""A WebSocket proxy before the local venue that mishandles the answers to ``post``s.

Every frame passes to the real venue and back, except the answers on the ``post``
channel, which the proxy, by its mode, sends twice (``twice``), holds in pairs and
sends with each other's ids (``swap``) or in the reverse order (``reverse``). The venue
still executes every action: only what makerd hears of it is wrong.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any, Literal

import aiohttp
from aiohttp import web

Mode = Literal["twice", "swap", "reverse"]


class PostAnswerProxy:
    """Serves ``/ws`` on a loopback port; relays to ``upstream``'s ``/ws``."""

    def __init__(self, upstream: str, mode: Mode) -> None:
        self._upstream = upstream.replace("http", "ws", 1) + "/ws"
        self.mode: Mode = mode
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="post-proxy", daemon=True)
        self._runner: web.AppRunner | None = None
        self._stop: asyncio.Event | None = None
        self.url = ""
        self.answers_seen = 0

    def start(self) -> str:
        self._thread.start()
        if not self._ready.wait(10):
            raise TimeoutError("post proxy did not start")
        return self.url

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_get("/ws", self._ws)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        await self._stop.wait()
        await self._runner.cleanup()

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        down = web.WebSocketResponse()
        await down.prepare(request)
        async with aiohttp.ClientSession() as session, session.ws_connect(self._upstream) as up:
            upward = asyncio.create_task(self._relay_up(down, up))
            try:
                await self._relay_down(up, down)
            finally:
                upward.cancel()
        return down

    async def _relay_up(self, down: web.WebSocketResponse, up: Any) -> None:
        async for message in down:
            if message.type is aiohttp.WSMsgType.TEXT:
                await up.send_str(message.data)

    async def _relay_down(self, up: Any, down: web.WebSocketResponse) -> None:
        held: list[dict[str, Any]] = []
        async for message in up:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            if frame.get("channel") != "post":
                await down.send_str(message.data)
                continue
            self.answers_seen += 1
            for out in self._answers(frame, held):
                await down.send_str(json.dumps(out))

    def _answers(self, frame: dict[str, Any], held: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.mode == "twice":
            return [frame, frame]
        held.append(frame)
        if len(held) < 2:
            return []
        first, second = held
        held.clear()
        if self.mode == "reverse":
            return [second, first]
        first_id, second_id = first["data"]["id"], second["data"]["id"]
        return [_with_id(second, first_id), _with_id(first, second_id)]


def _with_id(frame: dict[str, Any], post_id: int) -> dict[str, Any]:
    return {"channel": "post", "data": {**frame["data"], "id": post_id}}
