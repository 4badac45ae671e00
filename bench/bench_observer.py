"""The observer's CPU on the quoting path: per book, per target, per order manager cycle.

The router calls the observer (metrics, status) on the sending actor's thread, after it
has woken the next actor, which then waits for the GIL until that thread blocks again:
every microsecond here is a microsecond of tick-to-order. The cycle is a typical one
from the local venue: two modifies, their two state changes, the cycle's completion.
A benchmark, not a test: it prints, it asserts nothing. Run from the repository root:
``python bench/bench_observer.py`` (``--rounds 20000``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from decimal import Decimal

from prometheus_client import CollectorRegistry

from makerd.daemon.metrics import Metrics
from makerd.daemon.observer import Observer
from makerd.protocol.clock import WallClock
from makerd.protocol.control import QuoteCycleCompleted
from makerd.protocol.market import BookLevel, BookUpdated
from makerd.protocol.orders import (
    ModifyOrders,
    OrderAmendment,
    OrderStateChanged,
    OrderStatus,
    QuoteLevel,
    QuoteTarget,
)
from makerd.protocol.side import Side

MID = Decimal(100_000)


def book() -> BookUpdated:
    bids = tuple(BookLevel(price=MID - 1 - i, size=Decimal("1.5")) for i in range(20))
    asks = tuple(BookLevel(price=MID + 1 + i, size=Decimal("1.5")) for i in range(20))
    return BookUpdated(coin="BTC", bids=bids, asks=asks, ts_exchange=1, ts_local=2)


def target() -> QuoteTarget:
    size = Decimal("0.001")
    return QuoteTarget(
        coin="BTC",
        bids=tuple(QuoteLevel(price=MID - 10 - i, size=size) for i in range(5)),
        asks=tuple(QuoteLevel(price=MID + 10 + i, size=size) for i in range(5)),
        book_ts_local=1,
        ts_local=2,
    )


def cycle() -> list[object]:
    moved = [("b1", Side.BUY, MID - 11), ("a1", Side.SELL, MID + 11)]
    amendments = tuple(
        OrderAmendment(cloid=cloid, price=price, size=Decimal("0.001")) for cloid, _, price in moved
    )
    changes = [
        OrderStateChanged(
            cloid=cloid,
            coin="BTC",
            side=side,
            status=OrderStatus.PENDING_MODIFY,
            price=price,
            size=Decimal("0.001"),
            ts_local=2,
        )
        for cloid, side, price in moved
    ]
    done = QuoteCycleCompleted(
        coin="BTC", book_ts_local=1, commands_sent=1, reconciled=True, ts_local=2
    )
    return [ModifyOrders(amendments=amendments, ts_local=2), *changes, done]


def per_round_us(observer: Observer, messages: Sequence[object], rounds: int) -> float:
    began = time.thread_time_ns()
    for _ in range(rounds):
        for message in messages:
            observer(message)
    return (time.thread_time_ns() - began) / rounds / 1_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    args = parser.parse_args()
    observer = Observer(
        metrics=Metrics(CollectorRegistry(), venue="live", symbol="BTC"), clock=WallClock()
    )
    for name, messages in (("book", [book()]), ("target", [target()]), ("cycle", cycle())):
        print(f"observer CPU per {name}: {per_round_us(observer, messages, args.rounds):.2f} µs")


if __name__ == "__main__":
    main()
