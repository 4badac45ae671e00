"""A seeded synthetic BTC recording in the recorder's format, for benchmarks.

gzip, one line per WebSocket message: ``<local receive ns> <raw JSON>``: a 20-level
``l2Book`` snapshot every 100 ms and ``trades`` messages arriving as a Poisson stream
(5 a second by default) at the touch. The mid is a random walk of 2 bps/√s; each message's
local time is its exchange time plus 20-80 ms of feed latency. Stdlib only (the hftbacktest
benchmark runs without makerd), and the same seed writes the same bytes.
Run: ``python bench/seeded_recording.py OUT.gz --hours 1``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

STEP_MS = 100
LEVELS = 20
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@dataclass(frozen=True, slots=True, kw_only=True)
class Written:
    books: int
    trades: int


def write(
    path: Path,
    *,
    hours: float,
    seed: int = 7,
    start_price: float = 60_000.0,
    volatility_bps: float = 2.0,
    trades_per_s: float = 5.0,
) -> Written:
    """Write ``hours`` of market to ``path``; tick 1 USD, lot 0.00001 BTC."""
    rng = random.Random(seed)
    step_sigma = volatility_bps * 1e-4 * math.sqrt(STEP_MS / 1000)
    log_mid = math.log(start_price)
    resting: dict[int, float] = {}  # price -> displayed size; 0.0 marks an empty price
    books = trades = 0
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) as packed,
        io.TextIOWrapper(packed, encoding="ascii", newline="\n") as out,
    ):
        for step in range(int(hours * 3_600_000 / STEP_MS)):
            now_ms = START_MS + step * STEP_MS
            local_ns = now_ms * 1_000_000 + rng.randint(20_000_000, 80_000_000)
            log_mid += rng.gauss(0.0, step_sigma)
            best_bid = math.floor(math.exp(log_mid) - 0.5)
            batch = _trades(rng, now_ms, best_bid, trades_per_s)
            if batch:
                out.write(_line(local_ns, {"channel": "trades", "data": batch}))
                trades += len(batch)
            book = {"coin": "BTC", "time": now_ms, "levels": _levels(rng, resting, best_bid)}
            out.write(_line(local_ns + 1_000, {"channel": "l2Book", "data": book}))
            books += 1
    return Written(books=books, trades=trades)


def _line(local_ns: int, message: object) -> str:
    return f"{local_ns} {json.dumps(message, separators=(',', ':'))}\n"


def _levels(
    rng: random.Random, resting: dict[int, float], best_bid: int
) -> list[list[dict[str, object]]]:
    """Most levels keep their size from one snapshot to the next, as in a real book."""
    sides: list[list[dict[str, object]]] = [[], []]
    for side, (touch, direction) in enumerate(((best_bid, -1), (best_bid + 1, 1))):
        price = touch
        while len(sides[side]) < LEVELS:
            size = resting.get(price)
            if size is None or rng.random() < 0.1:
                occupied = len(sides[side]) == 0 or rng.random() < 0.6
                size = round(rng.expovariate(1 / 0.8) + 0.00001, 5) if occupied else 0.0
                resting[price] = size
            if size > 0:
                entry = {"px": f"{price}.0", "sz": f"{size:.5f}", "n": 1 + int(size * 3)}
                sides[side].append(entry)
            price += direction
    return sides


def _trades(
    rng: random.Random, now_ms: int, best_bid: int, per_s: float
) -> list[dict[str, object]]:
    batch: list[dict[str, object]] = []
    for _ in range(_poisson(rng, per_s * STEP_MS / 1000)):
        taker_buys = rng.random() < 0.5
        size = round(rng.expovariate(1 / 0.05) + 0.00001, 5)
        batch.append(
            {
                "coin": "BTC",
                "side": "B" if taker_buys else "A",
                "px": f"{best_bid + 1 if taker_buys else best_bid}.0",
                "sz": f"{size:.5f}",
                "time": now_ms - rng.randint(0, STEP_MS - 1),
                "hash": f"0x{rng.getrandbits(256):064x}",
                "tid": rng.getrandbits(50),
            }
        )
    batch.sort(key=lambda trade: int(str(trade["time"])))
    return batch


def _poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    written = write(args.out, hours=args.hours, seed=args.seed)
    print(f"{args.out}: {written.books:,} books, {written.trades:,} trades")


if __name__ == "__main__":
    main()
