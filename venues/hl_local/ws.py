"""``/ws``: subscriptions, pings, posts, and pushing what happened to subscribers.

One :class:`WsSession` per connection: a reader loop (subscribe, unsubscribe, ping,
post; closes after ``idle_timeout_s`` without a frame from the client) and a writer task
fed by a queue, so a slow client never blocks the venue. Frames are the exchange's:
``{"channel": ..., "data": ...}``, ``subscriptionResponse`` acks, ``pong``, ``post``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import WSCloseCode, WSMsgType, web

from makerd.venues.hl_local.feeds import FeedPublisher
from makerd.venues.hl_local.subscriptions import SubscriptionError, normalize_subscription
from makerd.venues.hl_local.wire import JsonDict
from makerd.venues.hl_local.ws_posts import PostDesk

log = logging.getLogger(__name__)

MAX_QUEUED_FRAMES = 5_000
CLOSE_WAIT_S = 2.0

StreamKind = Literal["market", "user", "all"]
STREAM_KINDS: tuple[StreamKind, ...] = ("market", "user", "all")


@dataclass(frozen=True, slots=True)
class CountedFrame:
    """A frame sent as is (text or binary), with a callback once it is written: the
    ``malformed_frames`` fault counts what actually went out, not what was queued."""

    payload: str | bytes
    written: Callable[[], None]


class WsSession:
    """One client connection and its subscriptions (key → normalized subscription)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.subscriptions: dict[str, JsonDict] = {}
        self.last_book: JsonDict | None = None
        """The latest ``l2Book`` push queued here: hostile frames are built from it."""
        self._outbox: asyncio.Queue[str | CountedFrame | None] = asyncio.Queue()
        self._closing: asyncio.Task[bool] | None = None

    @property
    def carries_user_stream(self) -> bool:
        """Whether any subscription of this connection names a user."""
        return self.user is not None

    @property
    def user(self) -> str | None:
        """The user the first user subscription names (``None``: a market stream)."""
        users = (sub["user"] for sub in self.subscriptions.values() if "user" in sub)
        return next(users, None)

    @property
    def carries_market_stream(self) -> bool:
        """Subscribed to something, and to nothing of a user's. A connection with no
        subscription at all (one that only posts actions) carries neither stream."""
        return bool(self.subscriptions) and not self.carries_user_stream

    def carries(self, stream: StreamKind) -> bool:
        if stream == "all":
            return True
        return self.carries_user_stream if stream == "user" else self.carries_market_stream

    def send(self, frame: JsonDict) -> None:
        """Queue a frame; a client that lets too many pile up is disconnected."""
        if frame.get("channel") == "l2Book":
            self.last_book = frame
        self._enqueue(json.dumps(frame, separators=(",", ":")))

    def reset(self) -> None:
        """Close the connection now, ahead of anything queued (a ``reset_next`` fault)."""
        if self._closing is None:
            close = self.ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"reset")
            self._closing = asyncio.get_running_loop().create_task(close)

    def send_counted(self, frame: CountedFrame) -> None:
        """Queue a frame as is, behind what is already queued (fault injection)."""
        self._enqueue(frame)

    def _enqueue(self, item: str | CountedFrame) -> None:
        if self._outbox.qsize() >= MAX_QUEUED_FRAMES:
            self._outbox.put_nowait(None)
            return
        self._outbox.put_nowait(item)

    async def write_loop(self) -> None:
        try:
            await self._write_queued()
        except ConnectionResetError:
            # The peer went away between the check and the write (a client killed with
            # SIGKILL): its connection is over, and the read loop ends it without a word.
            return

    async def _write_queued(self) -> None:
        while (item := await self._outbox.get()) is not None:
            if self.ws.closed:
                return
            if isinstance(item, str):
                await self.ws.send_str(item)
            elif isinstance(item.payload, bytes):
                await self.ws.send_bytes(item.payload)
                item.written()
            else:
                await self.ws.send_str(item.payload)
                item.written()
        await self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"slow consumer")


class WsHub:
    """Every open connection, plus the routing of venue events to subscribers."""

    def __init__(
        self,
        *,
        feeds: FeedPublisher,
        idle_timeout_s: float,
        posts: PostDesk,
        monotonic_ns: Callable[[], int],
    ) -> None:
        """``monotonic_ns`` stamps when each post's frame was read (the reaction stamps)."""
        self._feeds = feeds
        self._posts = posts
        self._monotonic_ns = monotonic_ns
        self._idle_timeout_s = idle_timeout_s
        self.sessions: set[WsSession] = set()
        feeds.attach(self.sessions)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one WebSocket connection until it closes."""
        ws = web.WebSocketResponse(timeout=CLOSE_WAIT_S)
        await ws.prepare(request)
        session = WsSession(ws)
        self.sessions.add(session)
        writer = asyncio.create_task(session.write_loop())
        try:
            await self._read_loop(session)
        finally:
            self.sessions.discard(session)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            if not ws.closed:
                await ws.close()
        return ws

    async def drop_all(self) -> int:
        """Close every connection now; return how many were open."""
        return await self.drop("all")

    async def drop(self, stream: StreamKind) -> int:
        """Close now the connections carrying ``stream`` (fault injection); return how many.

        A connection carries the user stream when one of its subscriptions names a user,
        the market stream when it has subscriptions and none names a user; one that only
        posts actions is dropped only with ``"all"``.
        """
        sessions = [session for session in self.sessions if session.carries(stream)]
        await asyncio.gather(
            *(s.ws.close(code=WSCloseCode.SERVICE_RESTART) for s in sessions),
            return_exceptions=True,
        )
        return len(sessions)

    async def _read_loop(self, session: WsSession) -> None:
        ws = session.ws
        while not ws.closed:
            try:
                message = await ws.receive(timeout=self._idle_timeout_s)
            except TimeoutError:
                log.info("closing an idle WebSocket (%ss without a frame)", self._idle_timeout_s)
                return
            if message.type != WSMsgType.TEXT:
                return  # close, error or binary: the exchange speaks JSON text only
            self._on_text(session, str(message.data), self._monotonic_ns())

    def _on_text(self, session: WsSession, text: str, read_ns: int) -> None:
        try:
            request = json.loads(text)
        except json.JSONDecodeError:
            session.send(_parse_error(text))
            return
        method = request.get("method") if isinstance(request, dict) else None
        if method == "ping":
            session.send({"channel": "pong"})
        elif method in {"subscribe", "unsubscribe"}:
            self._on_subscription(session, method, request.get("subscription"))
        elif method == "post" and isinstance(request.get("id"), int):
            self._posts.answer(session, request["id"], request.get("request"), read_ns)
        else:
            session.send(_parse_error(text))

    def _on_subscription(self, session: WsSession, method: str, raw: Any) -> None:
        try:
            key, normalized = normalize_subscription(raw, self._feeds.coins)
        except SubscriptionError as error:
            session.send({"channel": "error", "data": str(error)})
            return
        subscribed = key in session.subscriptions
        if method == "subscribe" and subscribed:
            session.send({"channel": "error", "data": f"Already subscribed: {json.dumps(raw)}"})
            return
        if method == "unsubscribe" and not subscribed:
            session.send({"channel": "error", "data": f"Already unsubscribed: {json.dumps(raw)}"})
            return
        ack = {"method": method, "subscription": normalized}
        session.send({"channel": "subscriptionResponse", "data": ack})
        if method == "subscribe":
            session.subscriptions[key] = normalized
            self._feeds.send_snapshot(session, key, normalized)
        else:
            del session.subscriptions[key]


def _parse_error(text: str) -> JsonDict:
    return {
        "channel": "error",
        "data": f"Error parsing JSON into valid websocket request: {text[:200]}",
    }
