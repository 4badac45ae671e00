"""Book updates through the real pykka pipeline: book_feed → quoter → order_manager → paper venue.

Prints, per offered update rate: the update-to-order-command latency (p50 / p99 / p99.9,
from the book's local receive time to the moment the order_manager's commands reach the
venue port), the rate of book updates the quoter actually turned into quote cycles, and
the largest inbox depth seen in any actor. Run: ``python bench/bench_pipeline.py``
(``--rates 50 200 1000 --seconds 10``). A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from actors.gate import TradingGate
from actors.router import Router, inbox_depth
from actors.routing import ACTOR_ROLES
from config.model import MakerdConfig
from makerd.cloids import CloidFactory
from makerd.journal import Journal
from makerd.latch import KillSwitchLatch
from makerd.supervision import build_supervisor
from makerd.wiring import Dependencies
from protocol.clock import WallClock
from protocol.control import QuoteCycleCompleted
from protocol.market import BookUpdated
from venues.runner import SteppedVenueThread
from venues.sim.venue import SimVenue, sim_instrument


class Recorder:
    def __init__(self, clock: WallClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.latencies_ns: list[int] = []
        self.books = 0
        self.cycles = 0

    def __call__(self, message: object) -> None:
        now = self._clock.now_ns()
        with self._lock:
            if isinstance(message, BookUpdated):
                self.books += 1
            elif isinstance(message, QuoteCycleCompleted):
                self.cycles += 1
                if message.commands_sent:
                    self.latencies_ns.append(now - message.book_ts_local)


def run_rate(rate: int, seconds: float) -> dict[str, float]:
    clock = WallClock()
    base = MakerdConfig()
    config = dataclasses.replace(
        base,
        sim=dataclasses.replace(base.sim, step_ms=max(1, round(1000 / rate))),
        quoting=dataclasses.replace(base.quoting, refresh_interval_ms=0),
    )
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "journal.sqlite")
        instrument = sim_instrument(config.sim, config.coin)
        venue = SimVenue(instrument, sim=config.sim, paper=config.paper, start_ns=clock.now_ns())
        thread = SteppedVenueThread(venue, clock=clock, step_s=config.sim.step_ms / 1000)
        recorder = Recorder(clock)
        holder: dict[str, object] = {}
        gate = TradingGate()
        router = Router(
            resolve=lambda role: holder["sup"].ref(role),  # type: ignore[attr-defined]  # noqa: PLW0108
            venue=thread,
            observer=recorder,
            gate=gate,
        )
        deps = Dependencies(
            config=config,
            instrument=instrument,
            journal=journal,
            session_id=journal.start_session(mode="bench", coin="BTC", ts_ns=clock.now_ns()),
            latch=KillSwitchLatch(Path(tmp)),
            new_cloid=CloidFactory(),
            clock=clock,
            gate=gate,
        )
        supervisor = build_supervisor(
            config, deps=deps, router=router, clock=clock, on_escalate=print, on_restart=print
        )
        holder["sup"] = supervisor
        thread.set_sink(router.dispatch)
        supervisor.start()
        thread.start()
        max_depth = 0
        started = time.monotonic()
        steps_before = thread.steps
        while time.monotonic() - started < seconds:
            depth = max(inbox_depth(supervisor.ref(role)) for role in ACTOR_ROLES)
            max_depth = max(max_depth, depth)
            time.sleep(0.002)
        elapsed = time.monotonic() - started
        steps = thread.steps - steps_before
        thread.stop()
        supervisor.stop()
        journal.close()
    lat = np.array(recorder.latencies_ns, dtype=np.float64) / 1e3
    return {
        "offered_per_s": rate,
        "venue_books_per_s": steps / elapsed,
        "quote_cycles_per_s": recorder.cycles / elapsed,
        "commanding_cycles": float(len(lat)),
        "p50_us": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p99_us": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
        "p999_us": float(np.percentile(lat, 99.9)) if len(lat) else float("nan"),
        "max_inbox": float(max_depth),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[20, 100, 500, 1000])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    header = (
        f"{'offered/s':>9} {'books/s':>8} {'cycles/s':>8} {'n':>6} "
        f"{'p50 µs':>8} {'p99 µs':>8} {'p99.9 µs':>9} {'max inbox':>9}"
    )
    print(header)
    for rate in args.rates:
        r = run_rate(rate, args.seconds)
        print(
            f"{r['offered_per_s']:>9.0f} {r['venue_books_per_s']:>8.1f} "
            f"{r['quote_cycles_per_s']:>8.1f} {r['commanding_cycles']:>6.0f} "
            f"{r['p50_us']:>8.0f} {r['p99_us']:>8.0f} {r['p999_us']:>9.0f} {r['max_inbox']:>9.0f}"
        )


if __name__ == "__main__":
    main()
