"""The report's one-pass walks agree with the plain computations over the whole list,
and a long series thinned for its plot keeps its extremes."""

from __future__ import annotations

import itertools
import random
import statistics
from decimal import Decimal

import pytest

from makerd.daemon.journal import EquitySnapshot
from makerd.daemon.report_walk import (
    DAYS_PER_YEAR,
    NS_PER_DAY,
    PLOT_BUCKETS,
    EquityWalk,
    FillWalk,
    Thinned,
)

HOUR_NS = NS_PER_DAY // 24


def snapshot(ts_ns: int, total: Decimal, position: Decimal = Decimal(0)) -> EquitySnapshot:
    return EquitySnapshot(
        ts_ns=ts_ns,
        position=position,
        realized=total,
        unrealized=Decimal(0),
        fees=Decimal(0),
        mark=Decimal(60_000),
    )


def walked(series: list[EquitySnapshot], limit: Decimal | None = None) -> EquityWalk:
    walk = EquityWalk(limit)
    for s in series:
        walk.add(s)
    return walk


def plain_sharpe(series: list[EquitySnapshot]) -> float | None:
    """The definition, over the whole list: total PnL at the last snapshot at or before
    each whole day's end from the first snapshot, its daily changes' mean over spread."""
    start = series[0].ts_ns
    whole = int((series[-1].ts_ns - start) / NS_PER_DAY)
    if whole < 2:
        return None
    closes = [series[0].total_pnl]
    for day in range(1, whole + 1):
        closes.append([s for s in series if s.ts_ns <= start + day * NS_PER_DAY][-1].total_pnl)
    daily = [float(b - a) for a, b in itertools.pairwise(closes)]
    spread = statistics.stdev(daily)
    return None if spread == 0 else statistics.fmean(daily) / spread * DAYS_PER_YEAR**0.5


@pytest.mark.parametrize("seed", range(12))
def test_the_streamed_daily_sharpe_is_the_one_of_the_whole_list(seed: int) -> None:
    rng = random.Random(seed)
    ts, total, series = 0, Decimal(0), []
    for _ in range(rng.randint(40, 160)):
        # Mostly hourly, sometimes a day-long gap, sometimes exactly on a day's end.
        step = rng.choice([HOUR_NS, 3 * HOUR_NS, NS_PER_DAY + 7, NS_PER_DAY - ts % NS_PER_DAY])
        ts += step
        total += Decimal(rng.randint(-50, 60))
        series.append(snapshot(ts, total))

    expected = plain_sharpe(series)
    sharpe = walked(series).sharpe()

    assert sharpe.days == int((series[-1].ts_ns - series[0].ts_ns) / NS_PER_DAY)
    if expected is None:
        assert sharpe.value is None
    else:
        assert sharpe.value == pytest.approx(expected, rel=1e-12)


def test_inventory_is_the_step_function_of_the_snapshots_positions() -> None:
    sizes = [Decimal(p) for p in ("0", "2", "-3", "3", "1")]
    series = [snapshot(i * HOUR_NS, Decimal(0), size) for i, size in enumerate(sizes)]
    fills = FillWalk()

    inventory = walked(series, limit=Decimal(3)).inventory(fills)

    # Held an hour each: 0, 2, 3, 3; the last snapshot starts no interval.
    assert inventory.time_weighted_abs == 2
    assert inventory.mean_abs == Decimal(9) / 5
    assert inventory.time_at_limit_share == 0.5
    assert inventory.max_abs == 3


def test_a_short_series_is_plotted_whole() -> None:
    thinned: Thinned[int] = Thinned(key=Decimal)
    for value in range(PLOT_BUCKETS):
        thinned.add(value)

    assert thinned.kept() == list(range(PLOT_BUCKETS))


def test_a_long_series_keeps_its_spike_and_its_dip_in_order_within_its_bound() -> None:
    rng = random.Random(3)
    values, level = [], 0
    for _ in range(60 * PLOT_BUCKETS + 17):
        level += rng.randint(-3, 3)
        values.append(level)
    spike, dip = 12_345, 170_001
    values[spike], values[dip] = 10**9, -(10**9)
    thinned: Thinned[tuple[int, int]] = Thinned(key=lambda row: Decimal(row[1]))
    for row in enumerate(values):
        thinned.add(row)

    kept = thinned.kept()
    indices = [index for index, _ in kept]
    assert len(kept) <= 2 * PLOT_BUCKETS
    assert indices == sorted(set(indices)), "in the order they came, each once"
    assert (spike, 10**9) in kept
    assert (dip, -(10**9)) in kept
    # Every stretch of the series is represented: no kept point is far from the next.
    assert max(b - a for a, b in itertools.pairwise(indices)) <= 2 * 64
