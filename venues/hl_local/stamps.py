"""Reaction stamps: when the venue showed a price jump, and when each action arrived.

A client's reaction time is measured from the exchange's side: from the moment the venue
queues the first ``l2Book`` push that shows a jump (armed with the ``jump_pct`` fault) to
the arrival of the client's next signed action. Both are stamped on the venue's own
monotonic clock, so neither the client's clock nor the wall clock's steps enter the
figure. ``GET /_debug/stamps`` (loopback only, see :mod:`venues.hl_local.admin`) returns
them::

    {"now_ns": <monotonic now>,
     "jumps": [{"coin", "pct", "book_ns"}…],
     "actions": [{"user", "type", "arrived_ns", "accepted"}…],
     "requests": [{"path", "type", "arrived_ns", "status"}…],
     "mids": [{"coin", "time", "mid"}…]}

``requests`` is every request that arrived, refused or not (``/info``, ``/exchange`` and
actions posted on a WebSocket, ``path`` ``"info"``, ``"exchange"`` or ``"ws_post"``),
with the info or action ``type`` and the HTTP status it was answered with (0: reset):
who keeps asking while the venue answers 429, which ``actions`` (only the requests that
reach an account) cannot show.

``mids`` is the mid of each coin whenever a pushed book moved it, ``time`` in ms on the
clock of the fills' ``time`` (so a fill can be marked against where the market went
after it: the bench's markouts). The lists are oldest first and bounded (the last
:data:`MAX_STAMPS` jumps and actions, the last :data:`MAX_MIDS` mids: 20 minutes at a
20 ms cadence), so a venue left running for days holds no growing history.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from makerd.venues.hl_local.wire import JsonDict

MAX_STAMPS = 20_000
MAX_MIDS = 60_000


@dataclass(frozen=True, slots=True, kw_only=True)
class JumpStamp:
    coin: str
    pct: Decimal
    book_ns: int
    """When the first book showing the jump was queued to the subscribers."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionStamp:
    user: str
    type: str
    arrived_ns: int
    accepted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestStamp:
    path: str
    type: str
    arrived_ns: int
    status: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MidStamp:
    coin: str
    time_ms: int
    mid: Decimal


class ReactionStamps:
    """Jumps waiting for their first book, and the stamps taken so far."""

    def __init__(self, monotonic_ns: Callable[[], int] = time.monotonic_ns) -> None:
        self.monotonic_ns = monotonic_ns
        self._waiting: dict[str, Decimal] = {}
        self._jumps: deque[JumpStamp] = deque(maxlen=MAX_STAMPS)
        self._actions: deque[ActionStamp] = deque(maxlen=MAX_STAMPS)
        self._requests: deque[RequestStamp] = deque(maxlen=MAX_STAMPS)
        self._mids: deque[MidStamp] = deque(maxlen=MAX_MIDS)
        self._last_mid: dict[str, Decimal] = {}

    def jumped(self, coins: list[str], pct: Decimal) -> None:
        """A jump moved these coins: the next book queued for each is stamped."""
        for coin in coins:
            self._waiting[coin] = pct

    def book_queued(self, coin: str) -> None:
        pct = self._waiting.pop(coin, None)
        if pct is not None:
            self._jumps.append(JumpStamp(coin=coin, pct=pct, book_ns=self.monotonic_ns()))

    def mid_shown(self, coin: str, mid: Decimal, time_ms: int) -> None:
        """A pushed book showed this mid; kept only when it moved."""
        if self._last_mid.get(coin) != mid:
            self._last_mid[coin] = mid
            self._mids.append(MidStamp(coin=coin, time_ms=time_ms, mid=mid))

    def action_arrived(self, *, user: str, kind: str, arrived_ns: int, accepted: bool) -> None:
        stamp = ActionStamp(user=user, type=kind, arrived_ns=arrived_ns, accepted=accepted)
        self._actions.append(stamp)

    def request_arrived(self, *, path: str, kind: str, arrived_ns: int, status: int) -> None:
        stamp = RequestStamp(path=path, type=kind, arrived_ns=arrived_ns, status=status)
        self._requests.append(stamp)

    def json(self) -> JsonDict:
        return {
            "now_ns": self.monotonic_ns(),
            "jumps": [
                {"coin": j.coin, "pct": str(j.pct), "book_ns": j.book_ns} for j in self._jumps
            ],
            "actions": [
                {"user": a.user, "type": a.type, "arrived_ns": a.arrived_ns, "accepted": a.accepted}
                for a in self._actions
            ],
            "requests": [
                {"path": r.path, "type": r.type, "arrived_ns": r.arrived_ns, "status": r.status}
                for r in self._requests
            ],
            "mids": [{"coin": m.coin, "time": m.time_ms, "mid": str(m.mid)} for m in self._mids],
        }


def request_type(path: str, body: object) -> str:
    """The info type or the action type a request body names ("" if none)."""
    if not isinstance(body, dict):
        return ""
    named = body.get("action") if path != "info" else body
    kind = named.get("type") if isinstance(named, dict) else None
    return kind if isinstance(kind, str) else ""
