"""The ``malformed_frames`` fault at work: hostile frames mixed into open WebSockets.

Arming gives each open connection of the requested stream its own plan: ``count`` frames
of the kinds of its stream (a connection with a subscription naming a user is a user
stream, classified when armed), in rotation (:func:`hostile_frames.kind_at`), ``burst``
at a time every ``every_ms``. A plan is an asyncio task on the venue's loop: each burst
is built and queued at once, behind the real frames already queued and ahead of the
next ones, so the hostile frames arrive interleaved with real traffic and the market
tick is never held up for more than one burst. Plans add up; ``clear`` cancels them.

A frame counts as sent once it is written to the socket; a connection that closes takes
its unsent frames with it (they leave ``pending`` and are never counted as sent).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from makerd.venues.hl_local.hostile_frames import (
    KINDS_BY_STREAM,
    BookFrame,
    Frame,
    HostileStream,
    kind_at,
    market_frame,
    user_frame,
)
from makerd.venues.hl_local.wire import JsonDict
from makerd.venues.hl_local.ws import CountedFrame, WsSession

if TYPE_CHECKING:
    from makerd.venues.hl_local.faults import MalformedFramesRequest


@dataclass(slots=True, kw_only=True, eq=False)  # eq=False: plans are told apart by identity
class _Plan:
    """What is left to send on one connection for one arming."""

    session: WsSession
    stream: HostileStream
    kinds: tuple[str, ...]
    user: str
    """The user a user stream's frames name (as subscribed when armed)."""
    left: int
    in_flight: int = 0
    """Queued on the connection, not yet written."""
    index: int = 0


class HostileInjector:
    """Every armed plan, and what has been written so far by ``"<stream>:<kind>"``."""

    def __init__(
        self,
        *,
        sessions: Collection[WsSession],
        coins: tuple[str, ...],
        book: Callable[[str], JsonDict],
        now_ms: Callable[[], int],
    ) -> None:
        """``sessions`` is the hub's live set; ``book(coin)`` the coin's current book."""
        self._sessions = sessions
        self._coins = coins
        self._book = book
        self._now_ms = now_ms
        self._plans: set[_Plan] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent: Counter[str] = Counter()

    def arm(self, request: MalformedFramesRequest) -> int:
        """Start a plan on every matching open connection; return how many frames in all."""
        total = 0
        for session in list(self._sessions):
            plan = self._plan_for(session, request)
            if plan is None:
                continue
            self._plans.add(plan)
            task = asyncio.create_task(self._serve(plan, request.every_ms / 1000, request.burst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            total += plan.left
        return total

    def clear(self) -> None:
        """Cancel every plan (frames already queued still go out and are counted)."""
        for task in self._tasks:
            task.cancel()
        self._plans.clear()

    async def stop(self) -> None:
        tasks = list(self._tasks)
        self.clear()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def report(self) -> JsonDict:
        """``{"sent": {"<stream>:<kind>": n, …}, "pending": n}`` (pending: not yet written)."""
        self._plans = {
            plan
            for plan in self._plans
            if plan.session in self._sessions and (plan.left or plan.in_flight)
        }
        pending = sum(plan.left + plan.in_flight for plan in self._plans)
        return {"sent": dict(sorted(self.sent.items())), "pending": pending}

    def _plan_for(self, session: WsSession, request: MalformedFramesRequest) -> _Plan | None:
        if not (session.carries_user_stream or session.carries_market_stream):
            return None  # it only posts actions: no subscribed stream to corrupt
        stream: HostileStream = "user" if session.carries_user_stream else "market"
        if request.stream not in (stream, "all") or request.count == 0:
            return None
        kinds = tuple(kind for kind in KINDS_BY_STREAM[stream] if kind in request.kinds)
        if not kinds:
            return None
        user = session.user or ""
        return _Plan(session=session, stream=stream, kinds=kinds, user=user, left=request.count)

    async def _serve(self, plan: _Plan, every_s: float, burst: int) -> None:
        while plan.left and plan.session in self._sessions:
            await asyncio.sleep(every_s)
            if plan.session in self._sessions:
                self._burst(plan, burst)

    def _burst(self, plan: _Plan, burst: int) -> None:
        for _ in range(min(burst, plan.left)):
            kind = kind_at(plan.kinds, plan.index)
            frame = self._frame(plan, kind)
            if frame is None:
                return  # no real book to disguise it as yet: try again next burst
            plan.index += 1
            plan.left -= 1
            plan.in_flight += 1
            plan.session.send_counted(CountedFrame(frame, self._on_written(plan, kind)))

    def _on_written(self, plan: _Plan, kind: str) -> Callable[[], None]:
        label = f"{plan.stream}:{kind}"

        def written() -> None:
            plan.in_flight -= 1
            self.sent[label] += 1

        return written

    def _frame(self, plan: _Plan, kind: str) -> Frame | None:
        if plan.stream == "user":
            return user_frame(kind, plan.user, now_ms=self._now_ms())
        book = self._real_book(plan.session)
        if book is None:
            return None
        coin = book["data"]["coin"]
        other = next((listed for listed in self._coins if listed != coin), coin)
        return market_frame(kind, book, other_coin=other)

    def _real_book(self, session: WsSession) -> BookFrame | None:
        """The connection's latest book push, else the first coin's current book (for a
        market connection without a book subscription); ``None`` if a side is empty."""
        frame = session.last_book or {"channel": "l2Book", "data": self._book(self._coins[0])}
        # The venue built this frame itself, so it has the l2Book shape.
        book = cast("BookFrame", frame)
        bids, asks = book["data"]["levels"]
        return book if bids and asks else None
