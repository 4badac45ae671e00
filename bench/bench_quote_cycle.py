"""The quoter's share of the path from a price move to an order: one book in, one target out.

The quoter runs with the default configuration after ``--trades`` public trades (a busy
market's few minutes: the trade-intensity window holds them all), then takes ``--books``
books 20 ms apart, each a new quote cycle, with a jump of ``--jump-bps`` every
``--jump-every`` books and ``--fills-per-s`` of our own fills booked meanwhile (the local
venue's flow fills a live run about six times a second, so the markout guard holds some
thirty fills within its horizon on every book, as in a live run).

A live quoter wakes for each book after other threads ran: its caches are cold, and the
same work takes about three times as long as back to back (``bench_tick_to_order.py``
measures it). ``--evict-kib N`` touches N KiB of memory between books to stand in for
those threads, so a change can be judged warm and cold in one run.

Prints the CPU time per book (median and p99 of batches of 50). ``--source TREE`` runs
another checkout's quoter on the same inputs (the version before a change), so two trees
can be compared back to back. A benchmark, not a test. Run from the repository root:
``python bench/bench_quote_cycle.py`` (``--evict-kib 4096``; ``--source ../old``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=6000)
    parser.add_argument("--books", type=int, default=2000)
    parser.add_argument("--jump-every", type=int, default=100)
    parser.add_argument("--jump-bps", type=float, default=30.0)
    parser.add_argument("--fills-per-s", type=float, default=6.0)
    parser.add_argument("--evict-kib", type=int, default=0)
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parent.parent)
    return parser.parse_args()


ARGS = _parse()
sys.path.insert(0, str(ARGS.source.resolve()))

from makerd.actors.quoter import QuoterLogic  # noqa: E402
from makerd.config.model import MakerdConfig  # noqa: E402
from makerd.daemon.wiring import build_estimators, build_quote_model  # noqa: E402
from makerd.protocol.account import FillBooked, Liquidity, OrderFilled  # noqa: E402
from makerd.protocol.market import BookLevel, BookUpdated, TradePrinted, TradesPrinted  # noqa: E402
from makerd.protocol.side import Side  # noqa: E402
from makerd.venues.sim.venue import sim_instrument  # noqa: E402

MS = 1_000_000
BOOK_EVERY_NS = 20 * MS
STALE_AFTER_NS = 5_000_000_000  # feed.stale_after_s's default
T0 = 1_700_000_000_000_000_000


def book(ts_ns: int, best_bid: Decimal) -> BookUpdated:
    levels = range(20)
    return BookUpdated(
        coin="BTC",
        bids=tuple(BookLevel(price=best_bid - i, size=Decimal("0.5")) for i in levels),
        asks=tuple(BookLevel(price=best_bid + 2 + i, size=Decimal("0.5")) for i in levels),
        ts_exchange=ts_ns,
        ts_local=ts_ns,
    )


def fill(ts_ns: int, number: int, price: Decimal) -> FillBooked:
    side = Side.BUY if number % 2 else Side.SELL
    filled = OrderFilled(
        trade_id=f"f{number}", cloid=None, venue_order_id=number, coin="BTC", side=side,
        price=price, size=Decimal("0.001"), fee=Decimal(0), liquidity=Liquidity.MAKER,
        ts_exchange=ts_ns, ts_local=ts_ns,
    )  # fmt: skip
    return FillBooked(
        fill=filled, position_after=Decimal(0), realized_pnl=Decimal(0), ts_local=ts_ns
    )


def inputs(args: argparse.Namespace, start_ns: int) -> list[object]:
    """The books, with the fills booked between them, in the order the quoter takes them."""
    messages: list[object] = []
    best_bid, low = Decimal(59_999), True
    jump = (best_bid * Decimal(args.jump_bps) / 10_000).to_integral_value()
    fills_per_book = args.fills_per_s * BOOK_EVERY_NS / 1e9
    owed, number = 0.0, 0
    for k in range(args.books):
        ts = start_ns + k * BOOK_EVERY_NS
        if k and k % args.jump_every == 0:
            best_bid, low = (best_bid + jump, False) if low else (best_bid - jump, True)
        owed += fills_per_book
        while owed >= 1:
            owed -= 1
            number += 1
            messages.append(fill(ts, number, best_bid - k % 5))
        messages.append(book(ts, best_bid - k % 5))
    return messages


def main() -> None:
    args = ARGS
    config = MakerdConfig()
    quoter = QuoterLogic(
        instrument=sim_instrument(config.sim, config.coin),
        model=build_quote_model(config),
        estimators=build_estimators(config, started_ns=T0),
        max_position=config.risk.max_position,
        min_requote_interval_ns=0,
        stale_after_ns=STALE_AFTER_NS,
    )
    quoter.handle(book(T0, Decimal(59_999)))
    for i in range(args.trades):
        ts = T0 + i * 40 * MS
        price = Decimal(60_000 + i % 7)
        trade = TradePrinted(
            coin="BTC", price=price, size=Decimal("0.01"), side=Side.BUY,
            trade_id=f"t{i}", ts_exchange=ts, ts_local=ts,
        )  # fmt: skip
        quoter.handle(TradesPrinted(coin="BTC", trades=(trade,), ts_local=ts))
    messages = inputs(args, T0 + args.trades * 40 * MS)
    scratch = bytearray(args.evict_kib * 1024)
    per_book: list[float] = []
    spent, books = 0, 0
    for message in messages:
        if args.evict_kib and isinstance(message, BookUpdated):
            scratch[::64] = bytes(len(scratch[::64]))  # every cache line, written
        began = time.thread_time_ns()
        quoter.handle(message)
        spent += time.thread_time_ns() - began
        if isinstance(message, BookUpdated):
            books += 1
            if books % 50 == 0:
                per_book.append(spent / 50 / 1_000)
                spent = 0
    per_book.sort()
    p99 = per_book[min(len(per_book) - 1, int(len(per_book) * 0.99))]
    print(f"source: {args.source}")
    print(
        f"trades in the window: {args.trades}, books: {books} (20 ms apart), "
        f"fills a second: {args.fills_per_s:g}, caches evicted between books: {args.evict_kib} KiB"
    )
    print(f"quoter CPU per book: median {statistics.median(per_book):.1f} µs, p99 {p99:.1f} µs")


if __name__ == "__main__":
    main()
