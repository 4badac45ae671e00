"""Live against replay, measured: does the backtest agree with the live run it replays?

makerd trades live against the local venue for --seconds with its market recorded, then
``makerd report --session 1 --replay`` backtests that recording with the session's own
config, drawing order latencies from the ones the session measured; then once more with
the config's constant latencies (``--configured-latency``), to show what the measured ones
change on the same live session. Prints both sides of each, their average queue wait, and
whether they agree within the issue's tolerance (fills ±10 %, net PnL ±20 %, or ±0.50 USD
when the live PnL is smaller than that).

    python bench/bench_fidelity.py --seconds 600
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_replay_fidelity import figures, live_run, replay_report, within_tolerance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="length of the live run")
    parser.add_argument(
        "--keep", type=Path, help="work in this (new) directory and keep it: journal, recording"
    )
    args = parser.parse_args()
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=11, tick_interval_s=0.1))
    url = venue.start()
    try:
        with contextlib.ExitStack() as scope:
            if args.keep is None:
                work = Path(scope.enter_context(tempfile.TemporaryDirectory(prefix="fidelity-")))
            else:
                work = args.keep
                work.mkdir(parents=True)
            state = live_run(work, url, seconds=args.seconds)
            measured = replay_report(work, state)
            constant = replay_report(work, state, "--configured-latency")
    finally:
        venue.stop()
    for name, result in (("measured", measured), ("configured", constant)):
        print(result.stdout)
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            raise SystemExit(result.returncode)
        print(
            f"{args.seconds:g} s live against its replay with {name} latencies: {verdict(result)}"
        )


def verdict(result: subprocess.CompletedProcess[str]) -> str:
    live_fills, replay_fills = figures(result.stdout, "fills")
    live_pnl, replay_pnl = figures(result.stdout, "net pnl (USD)")
    waits = re.search(r"^average queue wait \(s\)\s+(\S+)\s+(\S+)", result.stdout, re.MULTILINE)
    live_wait, replay_wait = waits.groups() if waits else ("n/a", "n/a")
    agree = within_tolerance((live_fills, live_pnl), (replay_fills, replay_pnl))
    return (
        f"fills {live_fills} vs replay {replay_fills}, net PnL {live_pnl} vs {replay_pnl}, "
        f"queue wait {live_wait} s vs {replay_wait} s: {'within' if agree else 'OUTSIDE'} "
        "tolerance"
    )


if __name__ == "__main__":
    main()
