"""Signed actions over a WebSocket of their own: the exchange's ``post`` method.

An action posted here skips most of an HTTP request's work on the way out (the request
object, its headers, the connection pool) and on the way in: on loopback its bytes reach
the socket in about a third of the time ``POST /exchange``'s take (the send stage of
``bench/bench_tick_to_order.py``). Each post carries an id, and its answer comes back on
the ``post`` channel with that id; the answer's payload is the body ``/exchange`` would
have answered, read by the same parser.

What cannot be known is said as for HTTP. A post whose answer does not come within
``timeout_s``, or whose connection closes first, raises :class:`RequestLostError`: the
action may or may not have reached the exchange, and the caller settles from the venue's
state. A connection that let an answer time out is closed, so the next post meets a
fresh one. A transport error (``{"type": "error", "payload": "<status>: ..."}``, the
exchange's mirror of an HTTP status) is a :class:`RateLimitedError` for a 429 and a lost
answer otherwise. While no connection is open, :attr:`PostChannel.ready` is False and
the caller posts over HTTP instead.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
from collections.abc import Callable
from dataclasses import replace

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import WebSocketException

from makerd.protocol.market import VenueConnectionChanged
from makerd.venues.hyperliquid.probe import SendProbe, SendStage
from makerd.venues.hyperliquid.rest import RateLimitedError, RequestLostError
from makerd.venues.hyperliquid.ws_connection import ReconnectingSocket, ReconnectPolicy

log = logging.getLogger("makerd.venue.post")


class PostChannel:
    """One WebSocket for posting actions; run :meth:`run` as a task on the I/O loop."""

    def __init__(
        self,
        *,
        url: str,
        policy: ReconnectPolicy,
        now_ns: Callable[[], int],
        timeout_s: float = 5.0,
        probe: SendProbe | None = None,
    ) -> None:
        """``probe`` (a benchmark's) hears when each order action's bytes are written."""
        self._timeout_s = timeout_s
        self._probe = probe
        self._pending: dict[int, asyncio.Future[object]] = {}
        self._ids = itertools.count(1)
        self.socket = ReconnectingSocket(
            name="post",
            url=url,
            subscriptions=(),
            channels=("post",),
            on_frame=self._on_frame,
            on_connected=lambda _connection: None,
            on_malformed=lambda _reason, _ts: None,  # the socket has logged it
            # Answers come only when asked: a quiet channel is not a dead one (the pings
            # keep it open, and a post that goes unanswered closes it).
            policy=replace(policy, silence_reconnect_s=math.inf),
            now_ns=now_ns,
            on_state=self._on_state,
            compress=False,  # a few hundred bytes an action: deflating costs more than it saves
        )

    @property
    def ready(self) -> bool:
        """A connection is open: a post now goes out at once."""
        return self.socket.connection is not None

    async def run(self) -> None:
        await self.socket.run()

    async def post_action(
        self, payload: dict[str, object], *, decided_ns: int | None = None
    ) -> object:
        """Post a signed action and return the exchange's answer (an ``/exchange`` body)."""
        ws = self.socket.connection
        if ws is None:
            raise RequestLostError("post channel: not connected")
        post_id = next(self._ids)
        request = {"type": "action", "payload": payload}
        text = json.dumps({"method": "post", "id": post_id, "request": request})
        answer: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._pending[post_id] = answer
        if self._probe is not None and decided_ns is not None:
            # Before the write, as aiohttp's hook stamps the HTTP body: a write that wakes
            # the venue may cost this thread the CPU, after its bytes are on their way.
            self._probe.stamp(SendStage.WRITTEN, decided_ns)
        try:
            await ws.send(text)
            async with asyncio.timeout(self._timeout_s):
                response = await answer
        except TimeoutError:
            _close(ws)
            raise RequestLostError(f"post {post_id}: no answer in {self._timeout_s}s") from None
        except WebSocketException as error:
            raise RequestLostError(f"post {post_id}: {type(error).__name__}") from None
        finally:
            self._pending.pop(post_id, None)
            _forget(answer)
        return _body(post_id, response)

    def _on_frame(self, channel: str, data: object, ts_local: int) -> None:
        post_id = data.get("id") if isinstance(data, dict) else None
        answer = self._pending.get(post_id) if isinstance(post_id, int) else None
        if answer is None or answer.done() or not isinstance(data, dict):
            # Late (its post timed out) or not an answer at all: nobody is waiting for it.
            self.socket.record_drop(channel, "unmatched_post", repr(post_id)[:40], ts_local)
            return
        answer.set_result(data.get("response"))

    def _on_state(self, change: VenueConnectionChanged) -> None:
        if change.connected:
            return
        for post_id, answer in list(self._pending.items()):
            if not answer.done():
                answer.set_exception(RequestLostError(f"post {post_id}: connection lost"))


def _forget(answer: asyncio.Future[object]) -> None:
    """Nobody will read ``answer`` now: mark its outcome read. A connection lost while the
    post's own send was still writing sets the answer's exception, and the send's failure
    is what the caller hears; unread, asyncio logged the answer at ERROR ("exception was
    never retrieved") whenever it was collected, an error line for a loss already handled."""
    if not answer.done():
        answer.cancel()
    elif not answer.cancelled():
        answer.exception()


def _body(post_id: int, response: object) -> object:
    kind = response.get("type") if isinstance(response, dict) else None
    payload = response.get("payload") if isinstance(response, dict) else None
    if kind == "action":
        return payload
    text = str(payload)[:200]
    if kind == "error" and text.startswith("429"):
        raise RateLimitedError(f"post {post_id}: {text}", retry_after_s=0.0)  # the budget's to say
    raise RequestLostError(f"post {post_id}: {kind or 'unreadable'} answer {text!r}")


def _close(ws: ClientConnection) -> None:
    """Drop the connection without the closing handshake: it has stopped answering."""
    log.warning("event=post_channel_reset reason=answer_timed_out")
    ws.transport.abort()
