"""Comparing the venue's position with the booked fills, without double counting.

A position report is a statement about one instant of exchange time. It is compared with
the fills booked *up to that instant* (later fills are not in it yet), so a report that
crosses a fill in flight is no mismatch. A fill stamped with the report's own millisecond
may fall on either side of it, so the report agrees with the booked position with or
without such fills.

A real mismatch means fills are missing. The fills are asked for again first, and the
difference is booked as an adjustment only for a report whose instant a completed fills
query covers: a repair reads the position first and the fills after it, so every fill up
to the position's instant has been booked when its ``FillsRepaired`` arrives. Adjusting on
any later report would count a fill still in flight twice, once as the adjustment and
once when it lands (and a second adjustment would then take it back).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

_KEEP_NS = 3_600 * 1_000_000_000
"""Booked changes kept for "position at time t" (reports are about the last seconds)."""


class Verdict(Enum):
    AGREES = "agrees"
    REPAIR = "repair"
    """Fills seem missing: ask the venue for them."""
    WAIT = "wait"
    """A repair is on its way; judge again after it."""
    ADJUST = "adjust"
    """Different at an instant whose fills have all been fetched: book the difference."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Judgement:
    verdict: Verdict
    booked: Decimal
    """What the booked fills say the position was at the report's time."""


class PositionCheck:
    def __init__(self) -> None:
        self._changes: list[tuple[int, Decimal]] = []
        self._repair_pending = False
        self._fetched_through_ns = 0
        """Exchange time up to which a completed repair fetched (and so booked) every fill."""

    def booked(self, ts_exchange_ns: int, signed_size: Decimal) -> None:
        """A fill or adjustment entered the ledger (in any order of exchange time)."""
        bisect.insort(self._changes, (ts_exchange_ns, signed_size), key=lambda c: c[0])
        horizon = self._changes[-1][0] - _KEEP_NS
        if self._changes[0][0] < horizon:
            del self._changes[: bisect.bisect_left(self._changes, horizon, key=lambda c: c[0])]

    def forget_booked(self) -> None:
        """The ledger is rebuilt from the journal; what repairs covered still holds."""
        self._changes = []

    def repaired(self, through_ns: int) -> None:
        """A fills repair completed: every fill up to ``through_ns`` has been delivered."""
        self._repair_pending = False
        self._fetched_through_ns = max(self._fetched_through_ns, through_ns)

    def judge(self, *, ledger_position: Decimal, venue: Decimal, at_ns: int) -> Judgement:
        booked = ledger_position - self._sum_after(at_ns)
        if venue in (booked, booked - self._sum_at(at_ns)):
            return Judgement(verdict=Verdict.AGREES, booked=booked)
        if at_ns <= self._fetched_through_ns:
            return Judgement(verdict=Verdict.ADJUST, booked=booked)
        if self._repair_pending:
            return Judgement(verdict=Verdict.WAIT, booked=booked)
        self._repair_pending = True
        return Judgement(verdict=Verdict.REPAIR, booked=booked)

    def _sum_after(self, at_ns: int) -> Decimal:
        start = bisect.bisect_right(self._changes, at_ns, key=lambda c: c[0])
        return sum((size for _, size in self._changes[start:]), Decimal(0))

    def _sum_at(self, at_ns: int) -> Decimal:
        """The changes stamped with exactly ``at_ns`` (a tie the venue may order either way)."""
        start = bisect.bisect_left(self._changes, at_ns, key=lambda c: c[0])
        end = bisect.bisect_right(self._changes, at_ns, key=lambda c: c[0])
        return sum((size for _, size in self._changes[start:end]), Decimal(0))
