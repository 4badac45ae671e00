"""One Hyperliquid WebSocket that never gives up: connect, subscribe, read, reconnect.

The exchange drops connections "periodically and without announcement" and closes any
connection it has not heard from for 60 s, so this sends ``ping``
whenever the socket has been quiet for ``ping_interval_s``, reconnects with exponential
backoff and jitter (sessions that die young count as failures, so a server that accepts
and drops at once is not hammered), and resubscribes every time. A connection that
stays open but carries no data for ``silence_reconnect_s`` is treated as dead too.

The socket is its own supervisor: a session that ends for any reason (a network error,
silence, or an exception from any code it runs) is reported as a disconnection, so the
connection gauge never says 1 for a dead stream, and restarted with backoff. Only
cancellation (stopping the venue) ends :meth:`ReconnectingSocket.run`. Every message
passes :func:`decode_frame` first and every handler call is guarded: a message that
cannot be read, arrives on a channel nobody subscribed to, or makes its handler raise is
counted, logged at a rate limit and dropped, never raised.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosedError,
    ConnectionClosedOK,
    WebSocketException,
)

from makerd.protocol.market import DropReason, VenueConnectionChanged
from makerd.venues.hyperliquid.frames import DropLog, decode_frame
from makerd.venues.hyperliquid.limits import FrameLimits

log = logging.getLogger("makerd.venue.ws")

FrameHandler = Callable[[str, object, int], None]
"""``(channel, data, ts_local_ns)`` for every data frame (not pongs or acks)."""


class StreamTap(Protocol):
    """Hears the stream as received (a recorder): every data message and connection change."""

    def on_message(self, raw: str, ts_local: int) -> None: ...

    def on_connection(self, change: VenueConnectionChanged) -> None: ...


_CONTROL_CHANNELS: Final = frozenset({"pong", "subscriptionResponse", "error"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconnectPolicy:
    initial_backoff_s: float = 0.25
    max_backoff_s: float = 30.0
    short_session_s: float = 10.0
    """A session shorter than this counts as a failed attempt when backing off."""
    ping_interval_s: float = 20.0
    silence_reconnect_s: float = 30.0
    open_timeout_s: float = 10.0
    close_timeout_s: float = 1.0
    """How long a closing connection waits for the peer's close frame. The library's 10 s
    outlasted a stop's wait for its tasks: the loop closed with the stream still closing,
    and its coroutine failed later, at garbage collection."""


class ReconnectingSocket:
    """Keeps one subscribed WebSocket alive on the I/O loop; run :meth:`run` as a task."""

    def __init__(
        self,
        *,
        name: str,
        url: str,
        subscriptions: Sequence[dict[str, object]],
        on_frame: FrameHandler,
        on_connected: Callable[[int], None],
        on_malformed: Callable[[str, int], None],
        policy: ReconnectPolicy,
        now_ns: Callable[[], int],
        on_state: Callable[[VenueConnectionChanged], None] | None = None,
        limits: FrameLimits | None = None,
        tap: StreamTap | None = None,
        channels: Sequence[str] = (),
        compress: bool = True,
    ) -> None:
        """``on_malformed(reason, ts_local)`` hears of every message dropped here.

        ``tap`` gets each data message on a subscribed channel, as text exactly as
        received, before its handler runs; messages dropped here never reach it.
        ``channels`` are channels no subscription names that still carry data (``post``).
        ``compress`` offers permessage-deflate (worth it for books, not for small posts).
        """
        self._compression = "deflate" if compress else None
        self._on_state = on_state
        self._tap = tap
        self._limits = limits or FrameLimits()
        self._channels = frozenset(str(sub.get("type")) for sub in subscriptions) | set(channels)
        self.connection: ClientConnection | None = None
        """The open, subscribed connection (None between sessions): for writing to it."""
        self.drops = DropLog(name)
        self._name = name
        self._url = url
        self._subscriptions = tuple(subscriptions)
        self._on_frame = on_frame
        self._on_connected = on_connected
        self._on_malformed = on_malformed
        self._policy = policy
        self._now_ns = now_ns
        self.connections = 0
        self.last_reconnect_s: float | None = None
        """Seconds from losing the previous connection to being subscribed again."""

    async def run(self) -> None:
        """Connect, read, reconnect: forever, whatever a session ends with."""
        failures = 0
        lost_at: float | None = None
        while True:
            opened_at = time.monotonic()
            try:
                await self._session(lost_at)
                reason = "timeout"  # the connection fell silent
            except (OSError, TimeoutError, WebSocketException) as error:
                log.warning("event=ws_disconnected stream=%s error=%r", self._name, error)
                reason = _disconnect_reason(error)
            except Exception:
                # A bug in a handler or in this loop: the stream must outlive it.
                log.exception("event=ws_session_failed stream=%s action=reconnect", self._name)
                reason = "other"
            self._report(connected=False, reason=reason)
            lost_at = time.monotonic()
            lived_s = lost_at - opened_at
            failures = 0 if lived_s >= self._policy.short_session_s else failures + 1
            await asyncio.sleep(self._delay(failures))

    async def _session(self, lost_at: float | None) -> None:
        async with connect(
            self._url,
            open_timeout=self._policy.open_timeout_s,
            close_timeout=self._policy.close_timeout_s,
            ping_interval=None,  # the exchange wants its own JSON ping
            compression=self._compression,
            max_size=self._limits.max_frame_bytes,
        ) as ws:
            await self._subscribe(ws)
            self.connections += 1
            if lost_at is not None:
                self.last_reconnect_s = time.monotonic() - lost_at
                log.info(
                    "event=ws_reconnected stream=%s connection=%d down_for_s=%.3f",
                    self._name,
                    self.connections,
                    self.last_reconnect_s,
                )
            self._on_connected(self.connections)
            self._report(connected=True, reason="")
            self.connection = ws
            try:
                await self._read(ws)
            finally:
                self.connection = None

    def _report(self, *, connected: bool, reason: str) -> None:
        change = VenueConnectionChanged(
            stream=self._name, connected=connected, reason=reason, ts_local=self._now_ns()
        )
        if self._tap is not None:
            self._tap.on_connection(change)
        if self._on_state is None:
            return
        try:
            self._on_state(change)
        except Exception:
            log.exception("event=ws_state_report_failed stream=%s", self._name)

    def record_drop(self, channel: str, reason: str, detail: str, ts_local: int) -> None:
        """Log a drop (rate limited); for the owner's parse-level drops too."""
        self.drops.record(channel, reason, detail, ts_local)

    def _delay(self, failures: int) -> float:
        policy = self._policy
        growth = float(1 << min(failures, 16))
        ceiling = min(policy.max_backoff_s, policy.initial_backoff_s * growth)
        return ceiling * (0.5 + random.random() / 2)

    async def _subscribe(self, ws: ClientConnection) -> None:
        for subscription in self._subscriptions:
            await ws.send(json.dumps({"method": "subscribe", "subscription": subscription}))

    async def _read(self, ws: ClientConnection) -> None:
        # The server's idle timer counts frames *from us*: a busy feed still needs pings.
        interval = self._policy.ping_interval_s
        last_data = last_ping = time.monotonic()
        while True:
            wait_s = max(0.0, last_ping + interval - time.monotonic())
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=wait_s)
            except TimeoutError:
                raw = None
            now = time.monotonic()
            if raw is not None and self.handle_message(raw, self._now_ns()):
                last_data = now
            if now - last_data >= self._policy.silence_reconnect_s:
                log.warning("event=ws_silent stream=%s action=reconnect", self._name)
                return
            if now - last_ping >= interval:
                await ws.send('{"method":"ping"}')
                last_ping = now

    def handle_message(self, raw: str | bytes, ts_local: int) -> bool:
        """Hand one frame on; return whether it carried data. Never raises."""
        frame = decode_frame(raw, max_depth=self._limits.max_json_depth)
        if frame.dropped is not None:
            self._malformed("ws", frame.dropped, frame.detail, ts_local)
            return False
        if frame.channel in _CONTROL_CHANNELS:
            if frame.channel == "error":
                log.warning("event=ws_error stream=%s data=%.200r", self._name, frame.data)
            return False
        if frame.channel not in self._channels:
            self._malformed("ws", DropReason.UNKNOWN_CHANNEL, frame.channel[:40], ts_local)
            return False
        if self._tap is not None:
            # decode_frame has read it as UTF-8 already: this cannot fail.
            self._tap.on_message(raw if isinstance(raw, str) else raw.decode(), ts_local)
        try:
            self._on_frame(frame.channel, frame.data, ts_local)
        except Exception as error:
            # The handler's own bug: count it, keep its traceback, keep the stream.
            log.exception("event=ws_handler_failed stream=%s channel=%s", self._name, frame.channel)
            self._malformed(frame.channel, DropReason.HANDLER_ERROR, repr(error), ts_local)
        return True

    def _malformed(self, channel: str, reason: DropReason, detail: str, ts_local: int) -> None:
        self.drops.record(channel, reason.value, detail, ts_local)
        self._on_malformed(reason.value, ts_local)


def _disconnect_reason(error: BaseException) -> str:
    if isinstance(error, ConnectionClosedOK):
        return "closed_ok"
    if isinstance(error, ConnectionClosedError):
        return "closed_error"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    return "other"
