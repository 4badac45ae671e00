"""What an idle CPU costs the hot path: one book's decode, warm and after the thread slept.

makerd's threads sleep between books (20 ms apart on the local venue, about 500 ms on the
exchange) and wake for the next one. ``bench_decode`` measures a book back to back, with
every cache warm; ``bench_tick_to_order`` sees each stage cost several times that. This
bench shows where the difference comes from, on the host it runs on: the same message
path (the market feed's decode, parse and checks, and the book_feed's), one message at a
time, timed on the wall clock from the handler's call to its return, after

- nothing (back to back, as ``bench_decode``),
- a sleep of ``--gap-ms`` (as live: the thread blocks, its CPU may go idle),
- a busy wait of ``--gap-ms`` (the thread keeps its CPU; nothing else runs on it),
- a sleep with a CPU latency request of 0 µs held (idle CPUs poll instead of halting),
  when this process may open ``/dev/cpu_dma_latency``,

each alone and, with ``--neighbour``, while another process works in bursts as the local
venue does beside makerd. Prints p50 / p90 per row and the ratio of each p50 to the back
to back one. A benchmark, not a test: it prints, it asserts nothing. Run from the
repository root: ``python bench/bench_idle_penalty.py`` (``--gap-ms 20 --messages 300``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_decode import arrivals, changing_frames, market_feed, venue_frame
from cpu_latency import CpuLatencyUnavailableError, held_cpu_latency

from makerd.actors.book_feed import BookFeedLogic

NEIGHBOUR = """
import json, time
rows = [{"px": str(i * 1.5), "sz": str(i), "n": i} for i in range(400)]
while True:
    started = time.perf_counter()
    while time.perf_counter() - started < 0.002:
        json.loads(json.dumps(rows))
    time.sleep(0.018)
"""
"""2 ms of JSON work every 20 ms: roughly the local venue's duty beside makerd."""


def sleep_for(gap_s: float) -> None:
    time.sleep(gap_s)


def busy_for(gap_s: float) -> None:
    until = time.perf_counter() + gap_s
    while time.perf_counter() < until:
        pass


def timed_messages(
    handle: Callable[[str], object], frames: Iterator[str], *, count: int, wait: Callable[[], None]
) -> list[float]:
    """Wall µs of ``handle`` on each of ``count`` messages, each after ``wait()``."""
    timings = []
    for _ in range(count):
        wait()
        text = next(frames)
        started = time.perf_counter_ns()
        handle(text)
        timings.append((time.perf_counter_ns() - started) / 1_000)
    return timings


@contextmanager
def neighbour(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    process = subprocess.Popen([sys.executable, "-c", NEIGHBOUR])
    try:
        time.sleep(0.2)
        yield
    finally:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gap-ms", type=float, default=20.0)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--neighbour", action="store_true", help="also rows with a busy neighbour")
    args = parser.parse_args()
    gap_s = args.gap_ms / 1_000
    frames = iter(changing_frames(venue_frame(), count=10**6, new_levels=5))
    clock = arrivals(time.time_ns())
    book_feed = BookFeedLogic(coin="BTC", stale_after_ns=10**18)
    passed: deque[object] = deque(maxlen=1)
    feed = market_feed(lambda event: passed.extend(book_feed.handle(event)))

    def handle(text: str) -> object:
        return feed.socket.handle_message(text, clock())

    timed_messages(handle, frames, count=200, wait=lambda: None)  # caches, level cache
    rows: list[tuple[str, Callable[[], None], Callable[[], AbstractContextManager[object]]]] = [
        ("back to back", lambda: None, nullcontext),
        (f"after a {args.gap_ms:g} ms sleep", lambda: sleep_for(gap_s), nullcontext),
        (f"after a {args.gap_ms:g} ms busy wait", lambda: busy_for(gap_s), nullcontext),
        (
            f"after a {args.gap_ms:g} ms sleep, latency request 0 µs",
            lambda: sleep_for(gap_s),
            lambda: held_cpu_latency(0),
        ),
    ]
    print(f"one l2Book message through the feed and the book_feed, {args.messages} each")
    print(f"{'':<62} {'p50 µs':>8} {'p90 µs':>8} {'p50 / back to back':>19}")
    for busy_neighbour in (False, True) if args.neighbour else (False,):
        with neighbour(busy_neighbour):
            baseline = None
            for name, wait, holding in rows:
                label = f"{name}{', busy neighbour' if busy_neighbour else ''}"
                try:
                    with holding():
                        timings = timed_messages(handle, frames, count=args.messages, wait=wait)
                except CpuLatencyUnavailableError as error:
                    print(f"{label:<62} not measured: {error}")
                    continue
                p50, p90 = np.percentile(timings, [50, 90])
                baseline = p50 if baseline is None else baseline
                print(f"{label:<62} {p50:>8.1f} {p90:>8.1f} {p50 / baseline:>18.1f}x")
    if book_feed.books_accepted == 0:
        print("no book passed the book_feed: figures not valid")


if __name__ == "__main__":
    main()
