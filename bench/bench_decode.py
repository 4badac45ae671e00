"""Decoding one ``l2Book`` message: the frame's text to the book event makerd acts on.

The frame is a real one from makerd's local venue (20 levels a side, as the exchange sends
for BTC); each run takes it through what the market feed does to every frame:
``decode_frame`` (JSON, depth check, channel) and ``parse_l2_book`` (every field read and
checked, the price band, the crossed-book check) with the feed's own guard. Prints the
CPU time per message (median and p99 of ``--batches`` batches of ``--per-batch`` messages,
so a timer's resolution does not enter), and the two steps apart. Target: 30 µs.

Run from the repository root: ``python bench/bench_decode.py``. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from makerd.venues.hl_local.accounts import AccountRegistry
from makerd.venues.hl_local.engine import MatchingEngine
from makerd.venues.hl_local.info import InfoEndpoint
from makerd.venues.hl_local.liquidity import LiquidityConfig, SyntheticLiquidity
from makerd.venues.hl_local.universe import Universe
from makerd.venues.hyperliquid.frames import decode_frame
from makerd.venues.hyperliquid.limits import FrameGuard, FrameLimits
from makerd.venues.hyperliquid.parse import parse_l2_book

TARGET_US = 30.0


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--per-batch", type=int, default=100)
    args = parser.parse_args()
    raw = venue_frame()
    limits = FrameLimits()
    guard = FrameGuard(limits=limits, coins=("BTC",))
    ts_local = time.time_ns()
    data = decode_frame(raw, max_depth=limits.max_json_depth).data

    def whole() -> object:
        frame = decode_frame(raw, max_depth=limits.max_json_depth)
        return parse_l2_book(frame.data, ts_local=ts_local, guard=guard)

    steps: list[tuple[str, Callable[[], object]]] = [
        (
            "decode_frame (JSON, depth, channel)",
            lambda: decode_frame(raw, max_depth=limits.max_json_depth),
        ),
        (
            "parse_l2_book (fields, checks)",
            lambda: parse_l2_book(data, ts_local=ts_local, guard=guard),
        ),
        ("one l2Book message, both", whole),
    ]
    levels = json.loads(raw)["data"]["levels"]
    print(f"frame: {len(raw)} bytes, {len(levels[0])} bids + {len(levels[1])} asks")
    print(f"{'step':<38} {'median µs':>10} {'p99 µs':>8}")
    for name, work in steps:
        timings = per_message_us(work, batches=args.batches, per_batch=args.per_batch)
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        print(f"{name:<38} {statistics.median(timings):>10.1f} {p99:>8.1f}")
    print(f"target: one message ≤ {TARGET_US:.0f} µs")


if __name__ == "__main__":
    main()
