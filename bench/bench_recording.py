"""The market-data recorder's writer: how fast it writes, what it costs the feed's thread.

Feeds synthetic 20-level ``l2Book`` messages (the size of Hyperliquid's, about 2.3 kB)
through :class:`RecordingWriter` as fast as one thread can, the way the socket's tap does,
and prints: the writer's sustained rate (lines/s, queue to disk, gzip included), the cost
of one ``record`` call on the feed's thread (p50 / p99 / max), lines dropped, and the
compressed bytes per line with the recorder's flush policy against a flush after every
line. Run: ``python bench/bench_recording.py`` (``--lines 50000``). It asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from makerd.venues.hyperliquid.recording import RecordingWriter
from makerd.venues.hyperliquid.recording_files import HourlyFiles


def book_message(rng: random.Random, mid: float, ts_ms: int) -> str:
    def side(sign: int) -> list[dict[str, object]]:
        return [
            {
                "px": f"{mid + sign * (i + 1):.1f}",
                "sz": f"{rng.uniform(0, 5):.5f}",
                "n": rng.randint(1, 40),
            }
            for i in range(20)
        ]

    data = {"coin": "BTC", "time": ts_ms, "levels": [side(-1), side(1)]}
    return json.dumps({"channel": "l2Book", "data": data}, separators=(",", ":"))


def run(messages: list[str], out: Path, *, flush_every: int) -> dict[str, float]:
    files = HourlyFiles(out_dir=out, label="BTC")
    # Bounds wide enough for the whole run: this measures speed, not the drop policy.
    room = sum(len(m) for m in messages)
    writer = RecordingWriter(
        files, capacity=len(messages) + 1, max_bytes=room + 1, flush_every=flush_every
    )
    writer.start()
    costs = np.empty(len(messages), dtype=np.int64)
    started = time.perf_counter()
    for index, message in enumerate(messages):
        before = time.perf_counter_ns()
        writer.record(time.time_ns(), message)
        costs[index] = time.perf_counter_ns() - before
    writer.stop(timeout_s=600)
    elapsed = time.perf_counter() - started
    size = sum(path.stat().st_size for path in files.completed)
    return {
        "lines_per_s": len(messages) / elapsed,
        "record_p50_us": float(np.percentile(costs, 50)) / 1e3,
        "record_p99_us": float(np.percentile(costs, 99)) / 1e3,
        "record_max_us": float(costs.max()) / 1e3,
        "bytes_per_line": size / len(messages),
        "dropped": float(writer.dropped),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=50_000)
    args = parser.parse_args()
    rng = random.Random(7)
    messages = [book_message(rng, 100_000 + rng.gauss(0, 50), i) for i in range(args.lines)]
    raw = sum(len(m) for m in messages) / len(messages)
    print(f"{args.lines} l2Book lines, {raw:.0f} bytes each before compression")
    with tempfile.TemporaryDirectory() as directory:
        batched = run(messages, Path(directory) / "batched", flush_every=100)
        per_line = run(messages, Path(directory) / "per_line", flush_every=1)
    for name, result in (
        ("flush when caught up / 100 lines", batched),
        ("flush every line", per_line),
    ):
        print(
            f"{name:34s} writer {result['lines_per_s']:9.0f} lines/s | record() p50 "
            f"{result['record_p50_us']:.1f} us p99 {result['record_p99_us']:.1f} us max "
            f"{result['record_max_us']:.0f} us | {result['bytes_per_line']:.0f} B/line "
            f"| dropped {result['dropped']:.0f}"
        )
    ratio = per_line["bytes_per_line"] / batched["bytes_per_line"]
    print(f"size ratio, flush every line / recorder's policy: {ratio:.2f}")


if __name__ == "__main__":
    main()
