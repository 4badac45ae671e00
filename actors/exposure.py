"""How many orders may rest at the venue, and when the exchange has asked us to wait.

The bound is counted over every order the venue may hold: resting, on its way, being
cancelled or in doubt. An order whose fate is unknown counts until the venue says
otherwise, so neither a lost answer nor a slow one lets a second ladder join the first.
A cancel and its replacement travel concurrently, so the venue may briefly hold both:
:data:`TRANSIENT_MARGIN` orders beyond the ladder are allowed for that, and no more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from makerd.protocol.clock import stepped_back
from makerd.protocol.orders import ModifyRejected, OrderRejected, OrderRequest
from makerd.protocol.rate_limits import RateLimitLifted
from makerd.protocol.rejections import RejectReason

NS_PER_S: Final = 1_000_000_000
TRANSIENT_MARGIN: Final = 2
"""Orders beyond the configured ladder that may rest while their cancels are in flight."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposureLimit:
    max_quote_orders: int
    """Two sides times the model's levels: the most quote orders a target can ask for."""

    def room(self, *, working: int, cancelling: int, in_doubt: int) -> int:
        """How many new quote orders may go out now."""
        under_ladder = self.max_quote_orders - working - in_doubt
        under_total = self.max_quote_orders + TRANSIENT_MARGIN - working - cancelling - in_doubt
        return max(0, min(under_ladder, under_total))

    @staticmethod
    def nearest_levels(places: list[tuple[int, OrderRequest]], room: int) -> list[OrderRequest]:
        """At most ``room`` new orders, the nearest levels of both sides first, in order."""
        if room >= len(places):
            return [request for _, request in places]
        ranked = sorted(range(len(places)), key=lambda i: places[i][0])[:room]
        return [places[i][1] for i in sorted(ranked)]


class RateLimitPause:
    """After the venue refused an order for rate limits, new risk waits; nothing queues.

    A venue that says how long its request budget refuses new risk (``retry_after_ns``) is
    taken at its word: the pause is exactly that, because a second backoff stacked on the
    budget's own kept quoting away long after the limit had lifted. A refusal that names no
    wait doubles the pause (1 s up to 16 s) until an order is accepted. When it ends, the
    next quote target is diffed against what really rests: deferred placements are
    re-derived, never replayed. The pause ends early when the exchange accepts an action
    sent after the limit began (:class:`RateLimitLifted`).
    """

    _FIRST_NS: Final = NS_PER_S
    _MAX_NS: Final = 16 * NS_PER_S

    def __init__(self) -> None:
        self._since_ns = 0
        self._until_ns = 0
        self._next_ns = self._FIRST_NS
        self.pauses = 0

    def paused(self, now_ns: int) -> bool:
        # Long before the pause began: the host's clock stepped back, and the pause is
        # over rather than stretched by the step (protocol.clock.still_waiting).
        return now_ns < self._until_ns and not stepped_back(now_ns, self._since_ns)

    def refused(self, now_ns: int, *, retry_after_ns: int = 0) -> None:
        if retry_after_ns > 0:
            if self.paused(now_ns):
                self._until_ns = max(self._until_ns, now_ns + retry_after_ns)
            else:
                self._begin(now_ns, retry_after_ns)
            return
        if self.paused(now_ns):
            return  # one refusal per pause: a batch's items all say the same
        self._begin(now_ns, self._next_ns)
        self._next_ns = min(self._next_ns * 2, self._MAX_NS)

    def _begin(self, now_ns: int, length_ns: int) -> None:
        self.pauses += 1
        self._since_ns, self._until_ns = now_ns, now_ns + length_ns

    def heard(self, refusal: OrderRejected | ModifyRejected) -> None:
        """A placement or a modify refused: a rate limit pauses new risk, either way."""
        if refusal.reason is RejectReason.RATE_LIMITED:
            self.refused(refusal.ts_local, retry_after_ns=refusal.retry_after_ns)

    def accepted(self) -> None:
        self._next_ns = self._FIRST_NS

    def on_lifted(self, _: RateLimitLifted) -> list[object]:
        """The exchange took an action sent during the pause: the limit, and the pause, are
        over. Waited out, the rest of the budget's backoff (up to 8 s) held quotes back."""
        self._until_ns = 0
        self.accepted()
        return []
