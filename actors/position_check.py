"""Comparing the venue's position with the booked fills, without double counting.

A position report is a statement about one instant of exchange time. It is compared with
the fills booked *up to that instant* (later fills are not in it yet), so a report that
crosses a fill in flight is no mismatch. A real mismatch means fills are missing: the
fills are asked for again first, and only when the mismatch survives a completed repair
is the difference booked as an adjustment. Adjusting first and repairing later would count
the same fill twice, once as the adjustment and once as the late fill.
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
    """Fills seem missing: ask the venue for them (first sighting of this mismatch)."""
    WAIT = "wait"
    """A repair is on its way; judge again after it."""
    ADJUST = "adjust"
    """Still different after a completed repair: book the difference."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Judgement:
    verdict: Verdict
    booked: Decimal
    """What the booked fills say the position was at the report's time."""


class PositionCheck:
    def __init__(self) -> None:
        self._changes: list[tuple[int, Decimal]] = []
        self._mismatch_seen = False
        self._repaired_since_mismatch = False

    def booked(self, ts_exchange_ns: int, signed_size: Decimal) -> None:
        """A fill or adjustment entered the ledger (in any order of exchange time)."""
        bisect.insort(self._changes, (ts_exchange_ns, signed_size), key=lambda c: c[0])
        horizon = self._changes[-1][0] - _KEEP_NS
        if self._changes[0][0] < horizon:
            del self._changes[: bisect.bisect_left(self._changes, horizon, key=lambda c: c[0])]

    def repaired(self) -> None:
        """A fills repair completed: every fill up to now has been delivered."""
        if self._mismatch_seen:
            self._repaired_since_mismatch = True

    def judge(self, *, ledger_position: Decimal, venue: Decimal, at_ns: int) -> Judgement:
        later = sum(
            (
                size
                for ts, size in self._changes[
                    bisect.bisect_right(self._changes, at_ns, key=lambda c: c[0]) :
                ]
            ),
            Decimal(0),
        )
        booked = ledger_position - later
        if booked == venue:
            self._mismatch_seen = self._repaired_since_mismatch = False
            return Judgement(verdict=Verdict.AGREES, booked=booked)
        if not self._mismatch_seen:
            self._mismatch_seen = True
            return Judgement(verdict=Verdict.REPAIR, booked=booked)
        if not self._repaired_since_mismatch:
            return Judgement(verdict=Verdict.WAIT, booked=booked)
        self._mismatch_seen = self._repaired_since_mismatch = False
        return Judgement(verdict=Verdict.ADJUST, booked=booked)
