"""State that grows with the length of a run: the actors on the deterministic driver.

The very state machines ``makerd run`` builds (quoter, order manager, fill tracker, risk
guardian, watchdog, book feed) run on the embedded sim with a simulated clock, so hours
of orders, fills, books and ticks take seconds. Every ``--sample-hours`` simulated hours
the bench counts the items of every container reachable from the actors (and from the
driver and the sim venue, which a live run does not have: named ``driver.`` and
``venue.``), and at the end prints each container that grew, with its size at each
sample, and the orders, modifies and fills the run made. A container that grows between
the last samples as it did between the first grows with the run; one that stops is
warm-up. A benchmark, not a test: it prints, it asserts nothing.

Run from the repository root: ``python bench/bench_state_growth.py`` (``--hours 6
--sample-hours 1 --scenario volatile``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from makerd.actors.driver import DeterministicDriver
from makerd.config.model import MakerdConfig, Scenario
from makerd.daemon.backtest import SIM_EPOCH_NS, run_session
from makerd.protocol.clock import ManualClock
from makerd.venues.sim.venue import SimVenue, sim_instrument
from tests.state_census import census, print_growth

NS_PER_HOUR = 3600 * 10**9


def run(args: argparse.Namespace) -> None:
    base = MakerdConfig()
    config = dataclasses.replace(base, sim=dataclasses.replace(base.sim, scenario=args.scenario))
    clock = ManualClock(SIM_EPOCH_NS)
    instrument = sim_instrument(config.sim, config.coin)
    venue = SimVenue(instrument, sim=config.sim, paper=config.paper, start_ns=clock.now_ns())
    samples: list[tuple[str, Counter[str]]] = []

    def drive(driver: DeterministicDriver) -> None:
        started = time.monotonic()
        for hour in range(0, args.hours + 1, args.sample_hours):
            if hour:
                driver.run_for(args.sample_hours * NS_PER_HOUR)
            roots = {**driver.logics, "driver": driver, "venue": venue}
            samples.append((f"{hour} h", census(roots)))
        print(f"{args.hours} simulated hours in {time.monotonic() - started:.0f} s")

    with tempfile.TemporaryDirectory() as tmp:
        result = run_session(
            config,
            instruments=(instrument,),
            venue=venue,
            clock=clock,
            state_dir=Path(tmp),
            drive=drive,
            end_reason="duration",
            persist_risk=False,
        )
    counters = result.counters
    print(
        f"places {counters.places}, modifies {counters.modifies}, cancels {counters.cancels}, "
        f"fills {counters.fills}, quote cycles {counters.quote_cycles}, halted {counters.halted}"
    )
    print_growth(samples, top=args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=6)
    parser.add_argument("--sample-hours", type=int, default=1)
    parser.add_argument("--scenario", type=Scenario, default=Scenario.VOLATILE)
    parser.add_argument("--top", type=int, default=40)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
