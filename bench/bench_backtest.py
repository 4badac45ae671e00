"""A cold ``makerd backtest`` of a seeded recording in the recorder's format.

Writes ``--hours`` of the synthetic market (calm: a 20-level snapshot every 100 ms and
about 6 trades a second) as the recorder would (gzip, ``<local ns> <raw JSON>``), then
runs ``python -m makerd backtest`` on it in a fresh process with the default strategy and
prints: wall time (process start to exit: imports, decompression, parsing and the replay),
events per second, the child's peak RSS, fills and total PnL. The issue's size is 6 h
(216,000 snapshots); its target is under 8.5 s cold. ``--profile`` writes a cProfile
of the run instead of timing it cold. Run: ``python bench/bench_backtest.py --hours 6``.
A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from config.model import Scenario
from venues.replay.synthetic import SyntheticRecording, Written, write_recording

RULES = ("--tick", "1", "--lot", "0.00001")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the backtest here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-backtest-") as scratch:
        work = Path(scratch)
        recording = work / "btc.gz"
        started = time.monotonic()
        spec = SyntheticRecording(seconds=args.hours * 3600, seed=args.seed, scenario=Scenario.CALM)
        written = write_recording(recording, spec)
        print(
            f"recording: {args.hours:g} h, {written.books:,} books, {written.trades:,} trades, "
            f"{recording.stat().st_size / 1e6:.1f} MB gzip, written in "
            f"{time.monotonic() - started:.1f} s"
        )
        command = [
            sys.executable,
            *(("-m", "cProfile", "-o", str(args.profile)) if args.profile else ()),
            "-m",
            "makerd",
            "backtest",
            str(recording),
            *RULES,
            "--state-dir",
            str(work / "state"),
        ]
        _report(command, written)


def _report(command: list[str], written: Written) -> None:
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        print(f"backtest failed ({done.returncode}):\n{done.stderr}")
        return
    values = dict(_label_value(line) for line in done.stdout.splitlines())
    events = written.books + written.trades
    print(f"cold wall time  {wall:.2f} s")
    print(f"events/s        {events / wall:,.0f} ({events:,} events)")
    print(f"peak RSS        {peak_kib / 1024:.0f} MiB")
    print(f"fills           {values.get('fills', '?')}")
    print(f"total pnl       {values.get('total pnl', '?')}")


def _label_value(line: str) -> tuple[str, str]:
    label, _, value = line.partition("  ")
    return label.strip(), value.strip()


if __name__ == "__main__":
    main()
