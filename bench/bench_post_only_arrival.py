"""What judging post-only orders by the book held at their arrival changes in a backtest.

Writes a synthetic recording with the given feed latency, replays it with the default
config (read inline), and prints the post-only checks, how many met a book newer than the
one received, the refusals, fills and PnL. ``--by-received`` judges every order by the
book received instead, as the engine did before (the same figures as that version: the
rest of the replay is unchanged).

    python bench/bench_post_only_arrival.py --feed-latency-ms 450
    python bench/bench_post_only_arrival.py --feed-latency-ms 450 --by-received
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from makerd.config.loader import load_config
from makerd.daemon.replay import instrument_from_steps, run_replay
from makerd.protocol.orders import (
    ModifyRejected,
    OrderAmendment,
    OrderRejected,
    OrderRequest,
    TimeInForce,
)
from makerd.venues.paper.held_books import Touch
from makerd.venues.paper.matching import MatchingEngine
from makerd.venues.paper.replies import PaperEvent
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording


def counted(counts: Counter[str], *, by_received: bool) -> None:
    """Count the engine's post-only checks and refusals (and drop the held book if asked)."""
    held_touch, place, modify = (
        MatchingEngine._held_touch,
        MatchingEngine.place,
        MatchingEngine.modify,
    )

    def judged(self: MatchingEngine, tif: TimeInForce, at_ns: int) -> Touch | None:
        touch = None if by_received else held_touch(self, tif, at_ns)
        if tif is TimeInForce.POST_ONLY:
            counts["post-only checks"] += 1
            counts["judged on a newer book than received"] += touch is not None
        return touch

    def refusals(events: list[PaperEvent]) -> list[PaperEvent]:
        for event in events:
            if isinstance(event, OrderRejected | ModifyRejected):
                counts[f"refused: {event.reason.value}"] += 1
        return events

    def placed(self: MatchingEngine, request: OrderRequest, at_ns: int) -> list[PaperEvent]:
        return refusals(place(self, request, at_ns))

    def modified(self: MatchingEngine, amendment: OrderAmendment, at_ns: int) -> list[PaperEvent]:
        return refusals(modify(self, amendment, at_ns))

    MatchingEngine._held_touch = judged  # type: ignore[method-assign]
    MatchingEngine.place = placed  # type: ignore[method-assign]
    MatchingEngine.modify = modified  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1800.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--feed-latency-ms", type=int, default=450)
    parser.add_argument("--by-received", action="store_true", help="judge as before")
    args = parser.parse_args()
    counts: Counter[str] = Counter()
    counted(counts, by_received=args.by_received)
    with tempfile.TemporaryDirectory(prefix="bench-post-only-") as scratch:
        recording = Path(scratch) / "btc.gz"
        spec = SyntheticRecording(
            seconds=args.seconds, seed=args.seed, feed_latency_ms=args.feed_latency_ms
        )
        write_recording(recording, spec)
        result = run_replay(
            load_config(None),
            [recording],
            instrument=instrument_from_steps("BTC", tick=Decimal(1), lot=Decimal("0.00001")),
            state_dir=Path(scratch) / "state",
            reader="inline",
        )
    judged = "by the book received" if args.by_received else "by the book held at arrival"
    print(
        f"{args.seconds:.0f} s, seed {args.seed}, feed latency {args.feed_latency_ms} ms, {judged}"
    )
    for name, count in sorted(counts.items()):
        print(f"  {name:<40} {count:>6}")
    summary = result.run.summary
    print(f"  {'fills':<40} {summary.fills:>6}")
    print(f"  {'total pnl (USD)':<40} {summary.total_pnl_usd:>6.2f}")


if __name__ == "__main__":
    main()
