"""Book updates through the real pykka pipeline: book_feed → quoter → order_manager → paper venue.

Prints, per offered update rate: the update-to-order-command latency (p50 / p99 / p99.9,
from the book's local receive time to the moment the order_manager's commands reach the
venue port), the rate of book updates the quoter actually turned into quote cycles, and
the largest inbox depth seen in any actor. Run: ``python bench/bench_pipeline.py``
(``--rates 50 200 1000 --seconds 10``).

``--coins 1 5 20`` runs that many coins in one process instead (each at ``--coin-rate``
book updates a second, wired as ``makerd run --coin ...`` wires them: a supervisor per
coin, shared fill tracker and risk guardian) and prints, per coin count, the latency
percentiles of the median and the worst coin and the process's CPU time over wall time
(1.0 = one core busy; the machine's cores are printed beside it). A benchmark, not a
test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from makerd.actors.gate import TradingGate
from makerd.actors.route_switch import RouteSwitch, books_to_risk
from makerd.actors.router import Router, inbox_depth
from makerd.config.model import CoinSpec, MakerdConfig
from makerd.daemon.basket import Basket
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.supervision import build_tree
from makerd.daemon.wiring import Dependencies
from makerd.protocol.clock import WallClock
from makerd.protocol.control import QuoteCycleCompleted
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookUpdated
from makerd.supervision.forest import SupervisorForest
from makerd.supervisor import Supervisor
from makerd.venues.runner import SteppedVenueThread
from makerd.venues.sim.basket import SimBasket
from makerd.venues.sim.venue import SimVenue, sim_instrument

NAMES = [
    "BTC",
    "ETH",
    "SOL",
    "DOGE",
    "AVAX",
    "LINK",
    "ARB",
    "OP",
    "SUI",
    "APT",
    "INJ",
    "TIA",
    "SEI",
    "NEAR",
    "ATOM",
    "DOT",
    "ADA",
    "XRP",
    "LTC",
    "BCH",
]


class Recorder:
    def __init__(self, clock: WallClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.latencies_ns: dict[str, list[int]] = {}
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
                    taken = now - message.book_ts_local
                    self.latencies_ns.setdefault(message.coin, []).append(taken)


@dataclasses.dataclass(frozen=True, slots=True)
class Run:
    seconds: float
    steps: int
    cycles: int
    latencies_ns: dict[str, list[int]]
    max_inbox: int
    cpu_s: float


def run_pipeline(coins: int, rate: int, seconds: float) -> Run:
    """``coins`` coins, each stepped ``rate`` times a second, through the wired actors."""
    clock = WallClock()
    base = MakerdConfig()
    quoting = dataclasses.replace(base.quoting, refresh_interval_ms=0)
    names = NAMES[:coins] if coins <= len(NAMES) else [f"C{i}" for i in range(coins)]
    config = dataclasses.replace(
        base,
        coin=names[0],
        coins=tuple(CoinSpec(coin=name, quoting=quoting) for name in names) if coins > 1 else (),
        sim=dataclasses.replace(base.sim, step_ms=max(1, round(1000 / rate))),
        quoting=quoting,
    )
    basket = Basket.of(config)
    instruments = tuple(sim_instrument(config.sim, name, i) for i, name in enumerate(names))
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "journal.sqlite")
        venue: SimVenue | SimBasket
        if basket.several:
            venue = SimBasket(
                instruments,
                sim=config.sim,
                paper=config.paper,
                start_ns=clock.now_ns(),
                coin_of_cloid=basket.cloids.coin_of,
            )
        else:
            venue = SimVenue(
                instruments[0], sim=config.sim, paper=config.paper, start_ns=clock.now_ns()
            )
        thread = SteppedVenueThread(venue, clock=clock, step_s=config.sim.step_ms / 1000)
        recorder = Recorder(clock)
        holder: dict[str, Any] = {}
        gate = TradingGate()
        books = RouteSwitch()
        router = Router(
            resolve=lambda role: holder["sup"].ref(role),  # noqa: PLW0108  (built below)
            venue=thread,
            observer=recorder,
            gate=gate,
            addressing=basket.addressing(),
            switches=books_to_risk(books),
        )
        deps = Dependencies(
            config=config,
            instrument=instruments[0],
            journal=journal,
            session_id=journal.start_session(mode="bench", coin=basket.label, ts_ns=clock.now_ns()),
            latch=KillSwitchLatch(Path(tmp)),
            new_cloid=basket.cloids.factories[names[0]],
            clock=clock,
            gate=gate,
            books_to_risk=books,
        )
        supervisor = printing_tree(config, deps, basket, instruments, router)
        holder["sup"] = supervisor
        thread.set_sink(router.dispatch)
        supervisor.start()
        thread.start()
        max_depth = 0
        actors = basket.actor_names()
        started, cpu_started = time.monotonic(), time.process_time()
        steps_before = thread.steps
        while time.monotonic() - started < seconds:
            depth = max(inbox_depth(supervisor.ref(name)) for name in actors)
            max_depth = max(max_depth, depth)
            time.sleep(0.002)
        elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
        steps = thread.steps - steps_before
        thread.stop()
        supervisor.stop()
        journal.close()
    return Run(
        seconds=elapsed,
        steps=steps,
        cycles=recorder.cycles,
        latencies_ns=recorder.latencies_ns,
        max_inbox=max_depth,
        cpu_s=cpu,
    )


def printing_tree(
    config: MakerdConfig,
    deps: Dependencies,
    basket: Basket,
    instruments: tuple[Instrument, ...],
    router: Router,
) -> Supervisor | SupervisorForest:
    """The supervised actors as ``makerd run`` builds them; what they report is printed."""
    return build_tree(
        config,
        deps=deps,
        cloids=basket.cloids,
        instruments=instruments,
        router=router,
        clock=deps.clock,
        on_escalate=print,
        on_coin_gave_up=print,
        on_restart=print,
    )


def _percentiles(latencies_ns: list[int]) -> tuple[float, float, float]:
    if not latencies_ns:
        return (float("nan"),) * 3
    lat = np.array(latencies_ns, dtype=np.float64) / 1e3
    return tuple(float(np.percentile(lat, q)) for q in (50, 99, 99.9))  # type: ignore[return-value]


def rate_table(rates: list[int], seconds: float) -> None:
    print(
        f"{'offered/s':>9} {'books/s':>8} {'cycles/s':>8} {'n':>6} "
        f"{'p50 µs':>8} {'p99 µs':>8} {'p99.9 µs':>9} {'max inbox':>9}"
    )
    for rate in rates:
        run = run_pipeline(1, rate, seconds)
        lat = [ns for coin in run.latencies_ns.values() for ns in coin]
        p50, p99, p999 = _percentiles(lat)
        print(
            f"{rate:>9.0f} {run.steps / run.seconds:>8.1f} {run.cycles / run.seconds:>8.1f} "
            f"{len(lat):>6} {p50:>8.0f} {p99:>8.0f} {p999:>9.0f} {run.max_inbox:>9}"
        )


def coins_table(counts: list[int], rate: int, seconds: float) -> None:
    print(f"{rate} book updates a second per coin, {seconds:g} s per run, {os.cpu_count()} cores")
    print(
        f"{'coins':>5} {'cycles/s':>8} {'p50 µs med':>10} {'p50 µs max':>10} "
        f"{'p99 µs med':>10} {'p99 µs max':>10} {'cpu/wall':>8} {'max inbox':>9}"
    )
    for count in counts:
        run = run_pipeline(count, rate, seconds)
        per_coin = [_percentiles(lat) for lat in run.latencies_ns.values()]
        p50s, p99s = [p[0] for p in per_coin], [p[1] for p in per_coin]
        quiet = count - len(per_coin)
        print(
            f"{count:>5} {run.cycles / run.seconds:>8.1f} {_median(p50s):>10.0f} "
            f"{max(p50s, default=float('nan')):>10.0f} {_median(p99s):>10.0f} "
            f"{max(p99s, default=float('nan')):>10.0f} {run.cpu_s / run.seconds:>8.2f} "
            f"{run.max_inbox:>9}" + (f"  ({quiet} coins sent no command)" if quiet else "")
        )


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[20, 100, 500, 1000])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--coins", type=int, nargs="+", help="coin counts, e.g. 1 5 20")
    parser.add_argument("--coin-rate", type=int, default=10, help="book updates/s per coin")
    args = parser.parse_args()
    run: Callable[[], None] = (
        (lambda: coins_table(args.coins, args.coin_rate, args.seconds))
        if args.coins
        else (lambda: rate_table(args.rates, args.seconds))
    )
    run()


if __name__ == "__main__":
    main()
