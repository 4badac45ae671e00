"""From what input size a second reading process pays for itself, and for ``auto``'s look.

For each length of synthetic recording (the calm market, as ``bench_backtest``), replays
it with ``--reader inline`` and ``--reader process`` in turn (``--repeats`` times each,
alternating, the best wall time kept) and prints the compressed size, both times and what
reading ahead saved. Then what ``auto``'s sample of the cores costs (``idle_cores``), and
the smallest size measured from which reading ahead saved more than that sample: below
it, ``auto`` cannot win by looking, so it reads inline without a look
(``venues.replay.ahead.SMALL_INPUT_BYTES``). Wall times need an idle second core to mean
anything: the load average is printed with each row. A benchmark: it prints, asserts
nothing.

    python bench/bench_reader_crossover.py
    python bench/bench_reader_crossover.py --seconds 60 300 900 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from makerd.config.loader import load_config
from makerd.config.model import MakerdConfig, Scenario
from makerd.daemon.replay import instrument_from_steps, run_replay
from makerd.venues.replay.ahead import SMALL_INPUT_BYTES, Reader
from makerd.venues.replay.idle_cores import idle_cores
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording

BTC = instrument_from_steps("BTC", tick=Decimal(1), lot=Decimal("0.00001"))


def wall_s(config: MakerdConfig, recording: Path, reader: Reader, scratch: Path) -> float:
    state = Path(tempfile.mkdtemp(dir=scratch))
    started = time.perf_counter()
    run_replay(config, [recording], instrument=BTC, state_dir=state, reader=reader)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, nargs="+", default=[60, 240, 480, 720, 960, 1440, 1920, 3600]
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config = load_config(None)
    sample_s = min(_timed(idle_cores) for _ in range(5))
    print(f"auto's sample of the cores: {sample_s:.3f} s (best of 5)")
    print(f"{'recording':>10} {'gzip':>9} {'inline':>8} {'process':>8} {'saved':>7}  load")
    pays_from: int | None = None
    with tempfile.TemporaryDirectory(prefix="bench-crossover-") as work:
        scratch = Path(work)
        for seconds in args.seconds:
            recording = scratch / f"btc{seconds:g}.gz"
            spec = SyntheticRecording(seconds=seconds, seed=7, scenario=Scenario.CALM)
            write_recording(recording, spec)
            wall_s(config, recording, "inline", scratch)  # warm: imports, caches
            readers: tuple[Reader, ...] = ("inline", "process")
            best = dict.fromkeys(readers, float("inf"))
            for _ in range(args.repeats):
                for reader in readers:
                    best[reader] = min(best[reader], wall_s(config, recording, reader, scratch))
            saved = best["inline"] - best["process"]
            size = recording.stat().st_size
            if saved > sample_s and pays_from is None:
                pays_from = size
            print(
                f"{seconds:>9g}s {size / 1e6:>7.2f}MB {best['inline']:>7.2f}s "
                f"{best['process']:>7.2f}s {saved:>+6.2f}s  {os.getloadavg()[0]:.2f}"
            )
    found = "none of these sizes" if pays_from is None else f"{pays_from / 1e6:.2f} MB"
    print(f"reading ahead saved more than the sample from: {found}")
    print(f"auto reads inline without a look below: {SMALL_INPUT_BYTES / 1e6:.2f} MB")


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
