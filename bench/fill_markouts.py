"""What makerd's fills earned, judged by where the venue's mid went after each (pure).

A fill's markout at a horizon is ``signed size × (mid at fill time + horizon − fill
price)``: positive when the market moved the fill's way (a buy below the later mid), in
USD and in bp of the fills' notional. The fills are split into those within a second of a
jump (the market ran over the ladder) and those between jumps. The session's PnL marks
every fill of the window to the mid at its end, less the fees paid (a rebate is a
negative fee); a position held before the window is not counted.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

HORIZONS_MS = (1_000, 5_000)
BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    time_ms: int
    price: Decimal
    size: Decimal
    """Signed: positive bought, negative sold."""
    fee: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class MidTimeline:
    """The venue's mid each time it moved, oldest first; a time before the first is an
    error, one after the last takes the last (the market had not moved since)."""

    times_ms: tuple[int, ...]
    mids: tuple[Decimal, ...]

    def at(self, time_ms: int) -> Decimal:
        index = bisect.bisect_right(self.times_ms, time_ms)
        if index == 0:
            raise ValueError(f"no mid at {time_ms} ms: the timeline starts at {self.times_ms[0]}")
        return self.mids[index - 1]


@dataclass(frozen=True, slots=True, kw_only=True)
class Markout:
    """Fills of one kind and their summed markout per horizon (USD)."""

    fills: int
    notional: Decimal
    usd: tuple[Decimal, ...]
    """One per :data:`HORIZONS_MS`."""

    def bps(self, horizon: int) -> Decimal | None:
        """Markout at horizon ``horizon`` (an index) in bp of notional; None with no fills."""
        return self.usd[horizon] / self.notional * BPS if self.notional else None

    def per_fill(self, horizon: int) -> Decimal | None:
        return self.usd[horizon] / self.fills if self.fills else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Money:
    near_jump: Markout
    between: Markout
    fees: Decimal
    pnl: Decimal
    """Every fill marked to the end mid, less fees."""

    @property
    def total(self) -> Markout:
        near, far = self.near_jump, self.between
        return Markout(
            fills=near.fills + far.fills,
            notional=near.notional + far.notional,
            usd=tuple(a + b for a, b in zip(near.usd, far.usd, strict=True)),
        )


def money(
    fills: Sequence[Fill],
    timeline: MidTimeline,
    *,
    jumps_ms: Sequence[int],
    ended_ms: int,
    near_ms: int = 1_000,
) -> Money:
    """The markouts of ``fills``, split by whether a jump came at most ``near_ms`` before."""
    near: list[Fill] = []
    between: list[Fill] = []
    for fill in fills:
        after_jump = any(0 <= fill.time_ms - j <= near_ms for j in jumps_ms)
        (near if after_jump else between).append(fill)
    end_mid = timeline.at(ended_ms)
    fees = sum((f.fee for f in fills), Decimal(0))
    marked = sum((f.size * (end_mid - f.price) for f in fills), Decimal(0))
    return Money(
        near_jump=_markout(near, timeline),
        between=_markout(between, timeline),
        fees=fees,
        pnl=marked - fees,
    )


def _markout(fills: Sequence[Fill], timeline: MidTimeline) -> Markout:
    return Markout(
        fills=len(fills),
        notional=sum((abs(f.size) * f.price for f in fills), Decimal(0)),
        usd=tuple(
            sum((f.size * (timeline.at(f.time_ms + h) - f.price) for f in fills), Decimal(0))
            for h in HORIZONS_MS
        ),
    )
