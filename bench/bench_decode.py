"""Decoding one ``l2Book`` message: the frame's text to the book event makerd acts on.

The frames are a real one from makerd's local venue (20 levels a side, as the exchange sends
for BTC) and streams made from it; each message takes the market feed's own path:
``decode_frame`` (the typed book decoder, or JSON, depth check and channel for any other
shape) and ``parse_l2_book`` (every value checked, the price band, the crossed-book check)
with the feed's guard and a level cache kept from one message to the next, as the feed
keeps it. Then the book_feed's checks (order of levels, crossed, positive) that turn the
snapshot into the ``BookUpdated`` the quoter reads.

The cache makes the figure depend on how many levels are new, so the parse is measured on
three streams: the same book again (every level seen before), a book in which ``--new``
levels of 40 change size each message (a busy real book changes a handful between two
pushes), and a book whose every level is new (the cache never helps). The headline, "one
l2Book message", is the middle one. The feed's rows receive one book every 500 ms, as
the exchange pushes them, so the price band's anchor ages and moves as it would live.
Prints the CPU time per message (median and p99 of ``--batches`` batches of
``--per-batch`` messages, so a timer's resolution does not enter).
Target: 30 µs.

Run from the repository root: ``python bench/bench_decode.py``. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from makerd.actors.book_feed import BookFeedLogic
from makerd.venues.hl_local.accounts import AccountRegistry
from makerd.venues.hl_local.engine import MatchingEngine
from makerd.venues.hl_local.info import InfoEndpoint
from makerd.venues.hl_local.liquidity import LiquidityConfig, SyntheticLiquidity
from makerd.venues.hl_local.universe import Universe
from makerd.venues.hyperliquid.feed import MarketFeed
from makerd.venues.hyperliquid.frames import decode_frame
from makerd.venues.hyperliquid.limits import FrameGuard, FrameLimits
from makerd.venues.hyperliquid.parse import LevelCache, parse_l2_book
from makerd.venues.hyperliquid.ws_connection import ReconnectPolicy

TARGET_US = 30.0
DEPTH = FrameLimits().max_json_depth
BOOK_INTERVAL_NS = 500_000_000
"""The exchange pushes a coin's book about twice a second."""


def venue_frame() -> str:
    """An ``l2Book`` push exactly as the local venue writes it to its sockets."""
    engine = MatchingEngine(
        universe=Universe(), accounts=AccountRegistry(initial_usdc=Decimal(0), auto_provision=False)
    )
    engine.now_ms = time.time_ns() // 1_000_000
    SyntheticLiquidity(engine, LiquidityConfig(), seed=7).refresh("BTC")
    book = InfoEndpoint(engine, lambda: engine.now_ms).l2_book("BTC")
    return json.dumps({"channel": "l2Book", "data": book}, separators=(",", ":"))


def per_message_us(work: Callable[[], object], *, batches: int, per_batch: int) -> list[float]:
    """CPU time of this thread per message, one figure per batch: on a shared machine
    the wall clock would count the time other processes held the core."""
    timings = []
    for _ in range(batches):
        started = time.thread_time_ns()
        for _ in range(per_batch):
            work()
        timings.append((time.thread_time_ns() - started) / per_batch / 1_000)
    return sorted(timings)


def changing_frames(raw: str, *, count: int, new_levels: int) -> list[str]:
    """``count`` frames of the book in ``raw``, ``new_levels`` of its levels resized in each
    (a size no earlier frame had), all other levels as in the frame before."""
    message = json.loads(raw)
    levels = [level for side in message["data"]["levels"] for level in side]
    frames = []
    for i in range(count):
        for j in range(new_levels):
            level = levels[(i * new_levels + j) % len(levels)]
            level["sz"] = f"{Decimal(level['sz']) + Decimal(i + 1) / 100_000}"
        frames.append(json.dumps(message, separators=(",", ":")))
    return frames


def each(items: list[str], work: Callable[[str], object]) -> Callable[[], object]:
    """``work`` on the next item at each call: every call sees a message not seen before."""
    stream: Iterator[str] = itertools.cycle(items)
    return lambda: work(next(stream))


def market_feed(sink: Callable[[object], None]) -> MarketFeed:
    """The market feed of a BTC session, never connected: messages are handed to its socket."""
    return MarketFeed(
        ws_url="ws://127.0.0.1:9",
        coins=("BTC",),
        sink=sink,
        policy=ReconnectPolicy(),
        now_ns=time.time_ns,
        limits=FrameLimits(),
    )


def arrivals(start_ns: int) -> Callable[[], int]:
    """Receive times of an exchange book stream: one book every ``BOOK_INTERVAL_NS``, so
    the price band's anchor ages (and is moved, with its full order check) as it would."""
    ticks = itertools.count()
    return lambda: start_ns + next(ticks) * BOOK_INTERVAL_NS


def parser_of(frames: list[str], ts_local: int) -> Callable[[str], object]:
    """The feed's parse of one decoded message: its guard (the band anchored on the last
    good book, as the feed anchors it) and a level cache kept from message to message."""
    guard, cache = FrameGuard(coins=("BTC",)), LevelCache()
    decoded = {text: decode_frame(text, max_depth=DEPTH).data for text in frames}
    first = parse_l2_book(decoded[frames[0]], ts_local=ts_local)
    guard.anchor("BTC", (first.bids[0].price + first.asks[0].price) / 2, ts_local)
    return lambda text: parse_l2_book(decoded[text], ts_local=ts_local, guard=guard, cache=cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--per-batch", type=int, default=100)
    parser.add_argument("--new", type=int, default=5, help="levels of 40 new in each message")
    args = parser.parse_args()
    raw = venue_frame()
    ts_local = time.time_ns()
    count = args.batches * args.per_batch
    same, some = [raw], changing_frames(raw, count=count, new_levels=args.new)
    every = changing_frames(raw, count=count, new_levels=40)
    snapshot = parse_l2_book(decode_frame(raw, max_depth=DEPTH).data, ts_local=ts_local)
    book_feed = BookFeedLogic(coin="BTC", stale_after_ns=10**18)
    last: deque[object] = deque(maxlen=1)
    feed_clock, chain_clock = arrivals(ts_local), arrivals(ts_local)
    feed = market_feed(last.append)
    downstream = BookFeedLogic(coin="BTC", stale_after_ns=10**18)
    feed_to_book_feed = market_feed(lambda event: last.extend(downstream.handle(event)))
    steps: list[tuple[str, Callable[[], object]]] = [
        ("decode_frame (typed book)", each(some, lambda text: decode_frame(text, max_depth=DEPTH))),
        ("parse_l2_book, every level seen", each(same, parser_of(same, ts_local))),
        (f"parse_l2_book, {args.new} of 40 levels new", each(some, parser_of(some, ts_local))),
        ("parse_l2_book, every level new", each(every, parser_of(every, ts_local))),
        ("book_feed checks (order, crossed)", lambda: book_feed.handle(snapshot)),
        (
            f"one l2Book message ({args.new} new), feed",
            each(some, lambda text: feed.socket.handle_message(text, feed_clock())),
        ),
        (
            "the same, and the book_feed",
            each(some, lambda text: feed_to_book_feed.socket.handle_message(text, chain_clock())),
        ),
    ]
    levels = json.loads(raw)["data"]["levels"]
    print(f"frame: {len(raw)} bytes, {len(levels[0])} bids + {len(levels[1])} asks")
    print(f"{'step':<40} {'median µs':>10} {'p99 µs':>8}")
    for name, work in steps:
        timings = per_message_us(work, batches=args.batches, per_batch=args.per_batch)
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        print(f"{name:<40} {statistics.median(timings):>10.1f} {p99:>8.1f}")
    dropped = feed.dropped + feed_to_book_feed.dropped + downstream.books_dropped
    if dropped or downstream.books_accepted == 0:
        print(f"{dropped} books dropped, {downstream.books_accepted} passed: figures not valid")
    print(f"target: one l2Book message ≤ {TARGET_US:.0f} µs")


if __name__ == "__main__":
    main()
