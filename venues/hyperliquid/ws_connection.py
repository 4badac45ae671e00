"""One Hyperliquid WebSocket that never gives up: connect, subscribe, read, reconnect.

The exchange drops connections "periodically and without announcement" and closes any
connection it has not heard from for 60 s (reference §5.1), so this sends ``ping``
whenever the socket has been quiet for ``ping_interval_s``, reconnects with exponential
backoff and jitter (sessions that die young count as failures, so a server that accepts
and drops at once is not hammered), and resubscribes every time. A connection that
stays open but carries no data for ``silence_reconnect_s`` is treated as dead too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosedError,
    ConnectionClosedOK,
    WebSocketException,
)

from protocol.market import VenueConnectionChanged

log = logging.getLogger("makerd.venue.ws")

FrameHandler = Callable[[str, object, int], None]
"""``(channel, data, ts_local_ns)`` for every data frame (not pongs or acks)."""

_CONTROL_CHANNELS: Final = frozenset({"pong", "subscriptionResponse"})
_MAX_FRAME_BYTES: Final = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconnectPolicy:
    initial_backoff_s: float = 0.25
    max_backoff_s: float = 30.0
    short_session_s: float = 10.0
    """A session shorter than this counts as a failed attempt when backing off."""
    ping_interval_s: float = 20.0
    silence_reconnect_s: float = 30.0
    open_timeout_s: float = 10.0


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
    ) -> None:
        self._on_state = on_state
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
        failures = 0
        lost_at: float | None = None
        while True:
            opened_at = time.monotonic()
            try:
                async with connect(
                    self._url,
                    open_timeout=self._policy.open_timeout_s,
                    ping_interval=None,  # the exchange wants its own JSON ping
                    max_size=_MAX_FRAME_BYTES,
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
                    await self._read(ws)
            except (OSError, TimeoutError, WebSocketException) as error:
                log.warning("event=ws_disconnected stream=%s error=%r", self._name, error)
                self._report(connected=False, reason=_disconnect_reason(error))
            lost_at = time.monotonic()
            lived_s = lost_at - opened_at
            failures = 0 if lived_s >= self._policy.short_session_s else failures + 1
            await asyncio.sleep(self._delay(failures))

    def _report(self, *, connected: bool, reason: str) -> None:
        if self._on_state is not None:
            self._on_state(
                VenueConnectionChanged(
                    stream=self._name, connected=connected, reason=reason, ts_local=self._now_ns()
                )
            )

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
            if raw is not None and self._dispatch(raw, self._now_ns()):
                last_data = now
            if now - last_data >= self._policy.silence_reconnect_s:
                log.warning("event=ws_silent stream=%s action=reconnect", self._name)
                return
            if now - last_ping >= interval:
                await ws.send('{"method":"ping"}')
                last_ping = now

    def _dispatch(self, raw: str | bytes, ts_local: int) -> bool:
        """Hand one frame on; return whether it carried data."""
        try:
            frame = json.loads(raw)
        except json.JSONDecodeError:
            self._on_malformed("not JSON", ts_local)
            return False
        channel = frame.get("channel") if isinstance(frame, dict) else None
        if not isinstance(channel, str):
            self._on_malformed("frame without a channel", ts_local)
            return False
        if channel in _CONTROL_CHANNELS:
            return False
        if channel == "error":
            log.warning("event=ws_error stream=%s data=%r", self._name, frame.get("data"))
            return False
        self._on_frame(channel, frame.get("data"), ts_local)
        return True


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
