"""Pair makerd's fills with hftbacktest's, one by one: the same side and price, close in time.

makerd's journal stamps a fill with the exchange time of the book or trade that made it;
hftbacktest's strategy sees a fill when it next wakes after the fill's answer arrives (the
response latency, then up to one wake-up interval). So a pair is one fill of each on the
same side at the same price (to the tick), hftbacktest's seen within ``window_ns`` after
makerd's exchange time, each fill used once, earliest first. Stdlib only.

Run: ``python bench/fill_pairs.py STATE/journal.sqlite fills.csv --tick 1``, the journal of
a ``makerd backtest --state-dir STATE`` and the CSV of ``python bench/hftbacktest_env.py
FILE ... --fills-out fills.csv`` on the same recording (``bench_backtest.py`` does both).
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
from collections import defaultdict, deque
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

WINDOW_NS = 200_000_000
"""A 20 ms answer and a 100 ms wake-up interval, with room for a late wake-up."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pairing:
    makerd: int
    hftbacktest: int
    paired: int


def pair_fills(journal: Path, hftbacktest_csv: Path, *, tick: float) -> Pairing:
    """How many of the journal's fills pair with the CSV's (``hftbacktest_side --fills-out``)."""
    with closing(sqlite3.connect(journal)) as db:
        ours = db.execute(
            "SELECT ts_exchange, side, price FROM fills ORDER BY ts_exchange"
        ).fetchall()
    theirs: dict[tuple[str, int], deque[int]] = defaultdict(deque)
    with hftbacktest_csv.open(encoding="utf-8") as rows:
        seen = sorted(
            (int(row["local_ns"]), row["side"], round(float(row["price"]) / tick))
            for row in csv.DictReader(rows)
        )
    for local_ns, side, ticks in seen:
        theirs[side, ticks].append(local_ns)
    paired = 0
    for ts_exchange, side, price in ours:
        times = theirs[side, round(float(price) / tick)]
        while times and times[0] < ts_exchange:
            times.popleft()  # seen before this fill happened: not its twin (nor a later one's)
        if times and times[0] <= ts_exchange + WINDOW_NS:
            times.popleft()
            paired += 1
    return Pairing(makerd=len(ours), hftbacktest=len(seen), paired=paired)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("journal", type=Path, help="makerd backtest's journal.sqlite")
    parser.add_argument("fills", type=Path, help="hftbacktest_side.py --fills-out CSV")
    parser.add_argument("--tick", type=float, default=1.0)
    args = parser.parse_args()
    pairs = pair_fills(args.journal, args.fills, tick=args.tick)
    print(f"{pairs.paired} of makerd's {pairs.makerd} fills pair with one of", end=" ")
    print(f"hftbacktest's {pairs.hftbacktest}")


if __name__ == "__main__":
    main()
