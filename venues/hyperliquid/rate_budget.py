"""Staying inside the exchange's request limits.

Two budgets. The per-IP weight (1200 a minute at the exchange) is enforced locally as a
token bucket sized by ``request_weight_per_minute`` (half the exchange's by default).
The per-address request count is the exchange's (``userRateLimit``): it is only tracked
here, from the last query plus the actions sent since, so it can be shown and acted on.
A rate-limit answer from the exchange starts a growing backoff.

Callers that wait are served in order of arrival within their priority: a small query
never overtakes a listing that has waited longer for the refill, so on a tight budget the
account's truth is not starved by the lighter reads asked after it.

Requests come in three priorities (:class:`Priority`). New risk (placements, modifies)
never waits: when the budget says "not now" it is refused at once, so nothing queues up
to be replayed in a burst at stale prices later. Account queries (the fills repair, open
orders) may dip into a reserve, so the truth never waits behind quoting traffic. Cancels
may use all of it and ignore the backoff: pulling quotes is never delayed by placing them.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import Final

from makerd.venues.hyperliquid.parse import UserRateLimit

_INFO_LIGHT_TYPES: Final = frozenset(
    {"l2Book", "allMids", "clearinghouseState", "orderStatus", "spotClearinghouseState"}
)
_INFO_DEFAULT_WEIGHT: Final = 20
_INFO_LIGHT_WEIGHT: Final = 2
_CANCEL_RESERVE_FRACTION: Final = 0.2
_QUERY_RESERVE_FRACTION: Final = 0.1
_BACKOFF_START_S: Final = 1.0
_BACKOFF_MAX_S: Final = 30.0
_NOTHING_NEW_PAUSE_S: Final = 0.1
"""What a refusal that starts no episode says once its backoff has ended: a moment, never
0, which the order manager reads as a venue that named no wait and backs off on its own."""
_SECONDS_PER_MINUTE: Final = 60.0


class Priority(Enum):
    TRADE = "trade"
    """New risk: refused rather than delayed when the budget is short or backing off."""
    QUERY = "query"
    """Reading the account's truth: may use half the reserve; waits out the backoff."""
    CANCEL = "cancel"
    """Removing risk: may use the whole reserve and ignores the backoff."""


def info_weight(info_type: str) -> int:
    """The IP weight of one ``/info`` request (before per-item surcharges)."""
    return _INFO_LIGHT_WEIGHT if info_type in _INFO_LIGHT_TYPES else _INFO_DEFAULT_WEIGHT


def action_weight(batch_length: int) -> int:
    """The IP weight of one ``/exchange`` action: ``1 + floor(n / 40)``."""
    return 1 + batch_length // 40


class _Turn:
    """One caller's place in its priority's queue; woken when it reaches the front."""

    def __init__(self) -> None:
        self.at_front = asyncio.Event()


class RateBudget:
    """The local IP weight bucket, the exchange-imposed backoff and the address budget.

    Used on the I/O loop only (no locks). ``clock`` returns monotonic seconds.
    """

    def __init__(
        self, *, weight_per_minute: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._capacity = float(weight_per_minute)
        self._refill_per_s = weight_per_minute / _SECONDS_PER_MINUTE
        self._floors = {
            Priority.TRADE: self._capacity * _CANCEL_RESERVE_FRACTION,
            Priority.QUERY: self._capacity * _QUERY_RESERVE_FRACTION,
            Priority.CANCEL: 0.0,
        }
        self._clock = clock
        self._tokens = self._capacity
        self._updated = clock()
        self._backoff_began = 0.0
        self._backoff_until = 0.0
        self._backoff_s = _BACKOFF_START_S
        self._sleepers: set[asyncio.Future[None]] = set()
        """Callers waiting out a backoff: woken when it is cut short."""
        self.weight_spent = 0
        self.actions_sent = 0
        self.rate_limited_total = 0
        self._address_limit: UserRateLimit | None = None
        self._address_sent_since_query = 0
        self._queues: dict[Priority, deque[_Turn]] = {priority: deque() for priority in Priority}
        self._granted: Priority | None = None

    @property
    def weight_left(self) -> float:
        """IP weight available now in the local bucket; read-only, safe from any thread."""
        elapsed = self._clock() - self._updated
        return min(self._capacity, self._tokens + elapsed * self._refill_per_s)

    @property
    def address_requests_left(self) -> int | None:
        """The address budget left (last ``userRateLimit`` minus actions sent since)."""
        if self._address_limit is None:
            return None
        return self._address_limit.requests_left - self._address_sent_since_query

    def seconds_until(self, weight: int, *, priority: Priority) -> float:
        """How long to wait before ``weight`` may be spent (0 = now)."""
        now = self._clock()
        self._refill()
        if priority is not Priority.CANCEL and now < self._backoff_until:
            return self._backoff_until - now
        missing = weight + self._floors[priority] - self._tokens
        return 0.0 if missing <= 0 else missing / self._refill_per_s

    def try_spend(self, weight: int, *, priority: Priority) -> float:
        """Spend ``weight`` now and return 0, or spend nothing and return the wait."""
        wait_s = self.seconds_until(weight, priority=priority)
        if wait_s <= 0:
            self._tokens -= weight
            self.weight_spent += weight
        return wait_s

    async def acquire(self, weight: int, *, priority: Priority) -> None:
        """Wait for ``weight`` behind the callers of ``priority`` already waiting, then
        spend it."""
        if self._granted is priority:
            self._granted = None
            if self.try_spend(weight, priority=priority) <= 0:
                return
        await self._turn(weight, priority)
        self.try_spend(weight, priority=priority)

    async def wait_for(self, weight: int, *, priority: Priority) -> None:
        """Wait as :meth:`acquire` does, spending nothing. A caller that goes on to
        :meth:`acquire` without awaiting anything else in between gets it at once: the turn
        it waited for is kept for that call until the loop runs anything else."""
        await self._turn(weight, priority)
        self._granted = priority
        asyncio.get_running_loop().call_soon(self._expire_grant, priority)

    def _expire_grant(self, priority: Priority) -> None:
        if self._granted is priority:
            self._granted = None

    async def _turn(self, weight: int, priority: Priority) -> None:
        """Return when ``weight`` may be spent at once and no earlier caller of ``priority``
        still waits. The caller must spend (or give up) before it next awaits."""
        queue = self._queues[priority]
        if not queue and self.seconds_until(weight, priority=priority) <= 0:
            return
        turn = _Turn()
        queue.append(turn)
        try:
            while True:
                if queue[0] is not turn:
                    await turn.at_front.wait()
                elif (wait_s := self.seconds_until(weight, priority=priority)) > 0:
                    await self._sleep(wait_s)
                else:
                    return
        finally:
            was_front = queue[0] is turn
            queue.remove(turn)
            if was_front and queue:
                queue[0].at_front.set()

    async def _sleep(self, wait_s: float) -> None:
        """Sleep ``wait_s``, or less if the backoff is cut short meanwhile."""
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.add(woken)
        try:
            await asyncio.wait((woken,), timeout=wait_s)
        finally:
            self._sleepers.discard(woken)
            woken.cancel()

    def record_action(self, items: int) -> None:
        """An action of ``items`` orders/cancels went out (address budget counts items)."""
        self.actions_sent += 1
        self._address_sent_since_query += items

    def record_user_rate_limit(self, limit: UserRateLimit) -> None:
        self._address_limit = limit
        self._address_sent_since_query = 0

    def now(self) -> float:
        """The budget's clock: what a caller stamps a request's departure with."""
        return self._clock()

    def record_rate_limited(self, *, sent_at: float | None = None) -> float:
        """The exchange said "too many" to a request sent at ``sent_at`` (default: now):
        back off (doubling, jittered); return how long the backoff still runs (at least
        a moment).

        Only a refusal of a request sent once the last backoff had ended starts a new
        episode. A request sent while it ran (a cancel, which never waits), or before it
        began (in flight when the first 429 came), says nothing new: counting it would
        double the pause several times for one episode and keep makerd away long after
        the limit ended. Judged by arrival instead, an answer slower than the first pause
        (0.5-1 s) doubled it again.
        """
        self.rate_limited_total += 1
        now = self._clock()
        if (now if sent_at is None else sent_at) < self._backoff_until:
            return max(_NOTHING_NEW_PAUSE_S, self._backoff_until - now)
        pause = self._backoff_s * (0.5 + random.random() / 2)
        self._backoff_began = now
        self._backoff_until = now + pause
        self._backoff_s = min(self._backoff_s * 2, _BACKOFF_MAX_S)
        return pause

    def record_success(self, *, sent_at: float | None = None) -> bool:
        """The exchange accepted a request: the next episode's pause starts small again.

        One sent at ``sent_at``, once the backoff running now had begun (a dead-man re-arm,
        which never waits for it), shows the limit is over: the backoff ends now, its
        waiting callers are woken, and True says so. Waiting it out kept new risk away
        for up to the whole pause (4-8 s after 3.5-7 s of refusals) with the exchange
        accepting again. ``None``: a request whose acceptance ends no backoff (a cancel,
        which has an address allowance of its own); it still restarts the doubling.
        """
        self._backoff_s = _BACKOFF_START_S
        now = self._clock()
        if sent_at is None or sent_at < self._backoff_began or now >= self._backoff_until:
            return False
        self._backoff_until = now
        for woken in self._sleepers:
            if not woken.done():
                woken.set_result(None)
        return True

    def _refill(self) -> None:
        now = self._clock()
        elapsed = now - self._updated
        self._updated = now
        self._tokens = min(self._capacity, self._tokens + elapsed * self._refill_per_s)
