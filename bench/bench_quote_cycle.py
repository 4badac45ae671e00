"""The quoter's share of the path from a price move to an order: one book in, one target out.

The quoter runs with the default configuration after ``--trades`` public trades (a busy
market's few minutes: the trade-intensity window holds them all), then takes ``--books``
books, each a new quote cycle. Prints the CPU time per book (median and p99 of batches of
50) for the default model. Run from the repository root:
``python bench/bench_quote_cycle.py`` (``--trades 6000``). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from makerd.actors.quoter import QuoterLogic
from makerd.config.model import MakerdConfig
from makerd.daemon.wiring import build_estimators, build_quote_model
from makerd.protocol.market import BookLevel, BookUpdated, TradePrinted, TradesPrinted
from makerd.protocol.side import Side
from makerd.venues.sim.venue import sim_instrument

MS = 1_000_000
STALE_AFTER_NS = 5_000_000_000  # feed.stale_after_s's default
T0 = 1_700_000_000_000_000_000


def book(ts_ns: int, tick: int) -> BookUpdated:
    bid = Decimal(59_999 - tick % 5)
    levels = range(20)
    return BookUpdated(
        coin="BTC",
        bids=tuple(BookLevel(price=bid - i, size=Decimal("0.5")) for i in levels),
        asks=tuple(BookLevel(price=bid + 2 + i, size=Decimal("0.5")) for i in levels),
        ts_exchange=ts_ns,
        ts_local=ts_ns,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=6000)
    parser.add_argument("--books", type=int, default=2000)
    args = parser.parse_args()
    config = MakerdConfig()
    quoter = QuoterLogic(
        instrument=sim_instrument(config.sim, config.coin),
        model=build_quote_model(config),
        estimators=build_estimators(config, started_ns=T0),
        max_position=config.risk.max_position,
        min_requote_interval_ns=0,
        stale_after_ns=STALE_AFTER_NS,
    )
    quoter.handle(book(T0, 0))
    for i in range(args.trades):
        ts = T0 + i * 40 * MS
        price = Decimal(60_000 + i % 7)
        trade = TradePrinted(
            coin="BTC", price=price, size=Decimal("0.01"), side=Side.BUY,
            trade_id=f"t{i}", ts_exchange=ts, ts_local=ts,
        )  # fmt: skip
        quoter.handle(TradesPrinted(coin="BTC", trades=(trade,), ts_local=ts))
    start = T0 + args.trades * 40 * MS
    books = [book(start + k * 20 * MS, k) for k in range(args.books)]
    batches = []
    for first in range(0, len(books), 50):
        began = time.thread_time_ns()
        for message in books[first : first + 50]:
            quoter.handle(message)
        batches.append((time.thread_time_ns() - began) / 50 / 1_000)
    batches.sort()
    p99 = batches[min(len(batches) - 1, int(len(batches) * 0.99))]
    print(f"trades in the window: {args.trades}, books: {len(books)} (20 ms apart)")
    print(f"quoter CPU per book: median {statistics.median(batches):.1f} µs, p99 {p99:.1f} µs")


if __name__ == "__main__":
    main()
