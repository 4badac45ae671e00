"""One pass over a session's rows for the report, in memory that does not grow with it.

A session can run for weeks: a snapshot a second is 600,000 rows a week, too many to hold
as objects. The report's figures are running sums over the rows (:class:`EquityWalk`,
:class:`FillWalk`), and its plots get at most a few thousand points per series
(:class:`Thinned`), so the CSVs, the figures and the plots come from one read of each table.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from makerd.daemon.journal import EquitySnapshot, JournaledFill
from makerd.protocol.account import Liquidity

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
DAYS_PER_YEAR = 365
PLOT_BUCKETS = 4_000
"""A plot keeps each bucket's lowest and highest row: at most twice this many points,
several per pixel of a 1,000-pixel-wide figure."""

Row = TypeVar("Row")


@dataclass(frozen=True, slots=True, kw_only=True)
class Sharpe:
    """An annualised Sharpe ratio of daily PnL, or why there is none (``value`` None)."""

    value: float | None
    days: int
    """Whole days of PnL it is computed from."""
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    mean_abs: Decimal
    """Mean of |position| over the snapshots."""
    time_weighted_abs: Decimal
    max_abs: Decimal
    time_at_limit_s: float
    time_at_limit_share: float


class Thinned(Generic[Row]):
    """A series' rows for a plot: all of them while they fit in :data:`PLOT_BUCKETS`
    buckets; past that, buckets of consecutive rows, each keeping its lowest and highest
    row by ``key``, so a spike or a drawdown between two kept rows is never lost."""

    def __init__(self, key: Callable[[Row], Decimal]) -> None:
        self._key = key
        self._buckets: list[tuple[tuple[int, Row], tuple[int, Row]]] = []
        self._stride = 1
        self._filled = 0
        """Rows in the newest bucket."""
        self.rows = 0

    def add(self, row: Row) -> None:
        seen = (self.rows, row)
        self.rows += 1
        if self._buckets and self._filled < self._stride:
            low, high = self._buckets[-1]
            self._buckets[-1] = (self._lower(low, seen), self._higher(high, seen))
            self._filled += 1
            return
        if len(self._buckets) == PLOT_BUCKETS:
            self._halve()
        self._buckets.append((seen, seen))
        self._filled = 1

    def kept(self) -> list[Row]:
        """The kept rows in the order they were added."""
        points = {index: row for bucket in self._buckets for index, row in bucket}
        return [points[index] for index in sorted(points)]

    def _halve(self) -> None:
        buckets = self._buckets
        merged = [
            (self._lower(low, later_low), self._higher(high, later_high))
            for (low, high), (later_low, later_high) in zip(
                buckets[0::2], buckets[1::2], strict=False
            )
        ]
        if len(buckets) % 2:
            merged.append(buckets[-1])
        self._buckets = merged
        self._stride *= 2

    def _lower(self, a: tuple[int, Row], b: tuple[int, Row]) -> tuple[int, Row]:
        return b if self._key(b[1]) < self._key(a[1]) else a

    def _higher(self, a: tuple[int, Row], b: tuple[int, Row]) -> tuple[int, Row]:
        return b if self._key(b[1]) > self._key(a[1]) else a


class FillWalk:
    def __init__(self) -> None:
        self.count = 0
        self.makers = 0
        self.max_abs_position = Decimal(0)

    def add(self, booked: JournaledFill) -> None:
        self.count += 1
        self.makers += booked.fill.liquidity is Liquidity.MAKER
        self.max_abs_position = max(self.max_abs_position, abs(booked.position_after))


class EquityWalk:
    """Inventory, turnover and daily Sharpe from the snapshots, one at a time.

    Inventory over time is each snapshot's position held until the next snapshot (the
    fill tracker writes one a second), so "time-weighted" and "time at the limit" are
    measured on that step function.
    """

    def __init__(self, limit: Decimal | None) -> None:
        self._limit = limit if limit is not None and limit > 0 else None
        self.count = 0
        self._first: EquitySnapshot | None = None
        self._last: EquitySnapshot | None = None
        self._sum_abs = Decimal(0)
        self._weighted_abs = Decimal(0)
        self._span_ns = 0
        self._at_limit_ns = 0
        self._max_abs = Decimal(0)
        self._marks = Decimal(0)
        self._marked = 0
        self._day_closes: list[Decimal] = []
        """Total PnL at each whole day's end from the first snapshot (the last snapshot
        at or before it)."""

    def add(self, snapshot: EquitySnapshot) -> None:
        size = abs(snapshot.position)
        previous = self._last
        if previous is None:
            self._first = snapshot
        else:
            self._close_days_before(snapshot.ts_ns, previous.total_pnl)
            held_ns = snapshot.ts_ns - previous.ts_ns
            held_size = abs(previous.position)
            self._span_ns += held_ns
            self._weighted_abs += held_size * held_ns
            if self._limit is not None and held_size >= self._limit:
                self._at_limit_ns += held_ns
        self._last = snapshot
        self.count += 1
        self._sum_abs += size
        self._max_abs = max(self._max_abs, size)
        if snapshot.mark > 0:
            self._marks += snapshot.mark
            self._marked += 1

    def inventory(self, fills: FillWalk) -> Inventory:
        span = self._span_ns
        return Inventory(
            mean_abs=self._sum_abs / self.count if self.count else Decimal(0),
            time_weighted_abs=self._weighted_abs / span if span else Decimal(0),
            max_abs=max(self._max_abs, fills.max_abs_position),
            time_at_limit_s=self._at_limit_ns / NS_PER_S,
            time_at_limit_share=self._at_limit_ns / span if span else 0.0,
        )

    def turnover(self, volume: Decimal) -> Decimal | None:
        """Volume over the position limit's notional at the mean mark (None: no limit or
        no mark)."""
        if self._limit is None or not self._marked:
            return None
        return volume / (self._limit * self._marks / self._marked)

    def sharpe(self) -> Sharpe:
        """Mean over standard deviation of daily PnL, times √365; only from whole days.

        Days are 24-hour windows from the first snapshot; a day's PnL is the change of
        total PnL across it. Less than a day of data gives no figure at all, and one day
        gives one daily PnL, whose spread is unknown: both say so instead of printing a
        number.
        """
        first, last = self._first, self._last
        if first is None or last is None:
            return Sharpe(value=None, days=0, note="n/a: no equity snapshots")
        span_days = (last.ts_ns - first.ts_ns) / NS_PER_DAY
        whole = int(span_days)
        if whole < 1:
            return Sharpe(value=None, days=0, note=f"n/a: {span_days:.2g} days of data")
        if whole < 2:
            return Sharpe(
                value=None,
                days=whole,
                note=f"n/a: {span_days:.2g} days of data, 1 whole day; a spread needs 2",
            )
        closes = [first.total_pnl, *self._closes_through(last)[:whole]]
        daily = [float(b - a) for a, b in itertools.pairwise(closes)]
        spread = statistics.stdev(daily)
        if spread == 0:
            return Sharpe(value=None, days=whole, note=f"n/a: daily PnL constant over {whole} days")
        value = statistics.fmean(daily) / spread * DAYS_PER_YEAR**0.5
        return Sharpe(value=value, days=whole, note=f"{value:.2f} from {whole} days")

    def _next_day_end(self) -> int:
        assert self._first is not None
        return self._first.ts_ns + (len(self._day_closes) + 1) * NS_PER_DAY

    def _close_days_before(self, ts_ns: int, total_before: Decimal) -> None:
        """Days that ended before ``ts_ns`` closed at the snapshot before it."""
        while self._next_day_end() < ts_ns:
            self._day_closes.append(total_before)

    def _closes_through(self, last: EquitySnapshot) -> list[Decimal]:
        closes = list(self._day_closes)
        end = self._next_day_end()
        while end <= last.ts_ns:  # a day that ends on the last snapshot closes at it
            closes.append(last.total_pnl)
            end += NS_PER_DAY
        return closes
