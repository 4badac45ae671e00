"""makerd's cold ``makerd backtest`` and hftbacktest 2.4.4 on one seeded recording, in one run.

Writes ``--hours`` of the synthetic market (calm: a 20-level snapshot every 100 ms and
about 6 trades a second) as the recorder would (gzip, ``<local ns> <raw JSON>``), once
(``--recording FILE`` keeps it there, and reuses it on the next run).
Then, on that file:

- makerd: ``python -m makerd backtest`` in a fresh process with the default strategy. Wall
  time is process start to exit: imports, decompression, parsing and the replay.
- hftbacktest: its own virtualenv (``bench/hftbacktest_env.py``, made once), makerd's
  default ladder written for numba. Its cold figure is a fresh process's start, imports,
  JIT and one run; the conversion of the file (cacheable, done once per file) is shown
  apart. ``--no-hftbacktest`` skips it; so does a virtualenv that cannot be made.

It prints one table: wall time, the ratio makerd / hftbacktest, makerd's CPU time (steadier
than wall on a shared machine), peak RSS, events per second, fills and PnL.
``--baseline SRC`` also runs the ``makerd`` package of another source tree (a checkout of
the version before a change, e.g. ``git worktree add ../base main``) on the same file,
before this one, and says whether the two journals' ``fills`` tables agree row for row
(with ``--profile x.prof``, the baseline's profile goes to ``x-baseline.prof``). The issue's
size is 6 h (216,000 snapshots); its target is makerd under hftbacktest's 8.5 s cold.
``--pairs N`` (with ``--baseline``) runs N such pairs back to back on the one file and
prints each, with the range of the wall and CPU ratios: on a shared machine one pair is not
a figure. makerd reads the recording in a second process, on a second core: its CPU time
counts both processes, so its wall time is the lower of the two; ``--reader`` picks where
this tree's makerd reads (``auto``: a second process only when a core is idle), and
``--baseline-reader`` the baseline's, to compare the same reader.
``--comparable`` runs both engines with one strategy, so that their fill models can be
compared (docs/backtest.md, "Why the two engines' fills differ"): the adverse-selection
guard off (hftbacktest's copy is makerd's first guard), makerd's order manager without the
slack hftbacktest's copy leaves out (queue hold, wider slack behind its level, depth
tolerance, age refresh), and both quoting each book as it arrives (makerd
``quoting.refresh_interval_ms: 1``; hftbacktest waking on every market-data message instead
of its 100 ms clock). It applies to the baseline's run too.
Both ways it also prints how many fills pair one by one (``bench/fill_pairs.py``).
``--profile`` writes a cProfile of makerd's run instead (then its wall time is the
profiled one; it applies to the first pair only; it sees the replay's process, not the
reader's). Run:
``python bench/bench_backtest.py --hours 6``.
A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from fill_pairs import WINDOW_NS, pair_fills
from hftbacktest_env import run_hftbacktest

from makerd.config.model import Scenario
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording

TICK, LOT = "1", "0.00001"

COMPARABLE_CONFIG = """\
quoting:
  adverse_selection_guard: false
  refresh_interval_ms: 1
order_manager:
  queue_hold_factor: 1
  behind_tolerance_factor: 1
  depth_tolerance: 0
  max_order_age_s: 86400
"""
"""makerd's part of ``--comparable``: the strategy hftbacktest's copy runs."""

COMPARABLE_HFTBACKTEST = ("--markout-widen-per-loss", "0", "--requote-on-feed", "1")
"""hftbacktest's part of ``--comparable``: no guard, a quote on every book."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Engine:
    name: str
    wall_s: float
    cpu_s: float
    """CPU time (user + system) of the process and of the reader process it starts: steadier
    than wall on a shared machine, but the two run at once, so wall is the figure to beat."""
    peak_rss_mib: float
    fills: str
    pnl: str
    note: str = ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--recording",
        type=Path,
        help="keep the recording here: written if missing, else reused as it is (then "
        "--hours and --seed do not apply); a 6 h file takes a minute or more to write",
    )
    parser.add_argument("--profile", type=Path, help="write a cProfile of makerd's run here")
    parser.add_argument(
        "--reader",
        choices=("auto", "process", "inline"),
        default="auto",
        help="makerd backtest's --reader for this tree's runs (not the baseline's)",
    )
    parser.add_argument(
        "--baseline-reader",
        choices=("auto", "process", "inline"),
        help="the baseline's --reader (default: none given, for a tree older than the option)",
    )
    parser.add_argument("--no-hftbacktest", action="store_true", help="run makerd only")
    parser.add_argument(
        "--comparable",
        action="store_true",
        help="one strategy for both engines, to compare their fill models (see above)",
    )
    parser.add_argument(
        "--baseline", type=Path, help="a source tree whose makerd runs first, for comparison"
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=1,
        help="with --baseline: run baseline and makerd this many times, back to back, on the "
        "one file, and print each pair's times (a shared machine's spread)",
    )
    args = parser.parse_args()
    if args.recording is not None and args.recording.suffix != ".gz":
        # makerd backtest tells a file's format by its name: any other name is refused,
        # and the table would show no fills without saying why.
        parser.error(f"--recording: a recorder file's name ends in .gz, got {args.recording}")
    # The runs start in a scratch directory: paths given relative to here must still hold.
    profile = args.profile.resolve() if args.profile else None
    baseline = args.baseline.resolve() if args.baseline else None
    with tempfile.TemporaryDirectory(prefix="bench-backtest-") as scratch:
        work = Path(scratch)
        recording = args.recording.resolve() if args.recording else work / "btc.gz"
        events = _recording(recording, args.hours, args.seed)
        engines = []
        config: tuple[str, ...] = ()
        if args.comparable:
            (work / "comparable.yaml").write_text(COMPARABLE_CONFIG)
            config = ("--config", str(work / "comparable.yaml"))
        reader = () if args.baseline_reader is None else ("--reader", args.baseline_reader)
        baseline_options = (*reader, *config)
        if baseline is not None:
            engines.append(
                _makerd(recording, work / "base", profile, baseline, options=baseline_options)
            )
        options = ("--reader", args.reader, *config)
        engines.append(_makerd(recording, work / "state", profile, options=options))
        if baseline is not None:
            same = _fills(work / "base") == _fills(work / "state")
            print(f"fills tables of baseline and makerd identical row for row: {same}")
        if not args.no_hftbacktest:
            their_fills = work / "hftbacktest_fills.csv"
            strategy = COMPARABLE_HFTBACKTEST if args.comparable else ()
            engines.append(_hftbacktest(recording, (*strategy, "--fills-out", str(their_fills))))
            if their_fills.exists():
                _print_pairs(work / "state" / "journal.sqlite", their_fills)
        _print_table(engines, events)
        if baseline is not None and args.pairs > 1:
            first = (engines[0], engines[1])
            _more_pairs(
                recording,
                work,
                baseline,
                first=first,
                pairs=args.pairs,
                options=options,
                baseline_options=baseline_options,
            )


def _recording(path: Path, hours: float, seed: int) -> int:
    """Write the recording at ``path``, or count the events of the one already there."""
    started = time.monotonic()
    if path.exists():
        books, trades = _counted(path)
        done = "counted"
    else:
        spec = SyntheticRecording(seconds=hours * 3600, seed=seed, scenario=Scenario.CALM)
        written = write_recording(path, spec)
        books, trades, done = written.books, written.trades, "written"
    print(
        f"recording: {path.name}, {books:,} books, {trades:,} trades ({books + trades:,} "
        f"events), {path.stat().st_size / 1e6:.1f} MB gzip, {done} in "
        f"{time.monotonic() - started:.1f} s"
    )
    return books + trades


def _counted(path: Path) -> tuple[int, int]:
    """Books and trades of a recording this benchmark wrote (one trade a trades line)."""
    books = trades = 0
    with gzip.open(path, "rb") as lines:
        for line in lines:
            if b'"channel":"l2Book"' in line:
                books += 1
            elif b'"channel":"trades"' in line:
                trades += 1
    return books, trades


def _more_pairs(
    recording: Path,
    work: Path,
    baseline: Path,
    *,
    first: tuple[Engine, Engine],
    pairs: int,
    options: tuple[str, ...],
    baseline_options: tuple[str, ...],
) -> None:
    """Run ``pairs - 1`` more pairs and print every pair's figures and the range of ratios."""
    results = [first]
    for n in range(2, pairs + 1):
        # Every other pair runs makerd first: run second, the same code path took 4-28%
        # more CPU over four pairs on a shared machine, which must favour neither side.
        runs = {
            "base": lambda n=n: _makerd(
                recording, work / f"base{n}", None, baseline, options=baseline_options
            ),
            "state": lambda n=n: _makerd(recording, work / f"state{n}", None, options=options),
        }
        order = ("base", "state") if n % 2 else ("state", "base")
        done = {name: runs[name]() for name in order}
        pair = (done["base"], done["state"])
        print(f"pair {n}: {' then '.join(order)}")
        same = _fills(work / f"base{n}") == _fills(work / f"state{n}")
        results.append(pair)
        print(f"pair {n}: fills tables identical row for row: {same}")
    heads = ("baseline wall", "CPU", "makerd wall", "CPU", "wall ratio", "CPU ratio")
    widths = (13, 8, 12, 8, 10, 9)
    print(f"{'pair':<5} " + " ".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)))
    for n, (before, after) in enumerate(results, start=1):
        print(
            f"{n:<5} {before.wall_s:>11.2f} s {before.cpu_s:>6.2f} s {after.wall_s:>10.2f} s "
            f"{after.cpu_s:>6.2f} s {before.wall_s / after.wall_s:>9.2f}x "
            f"{before.cpu_s / after.cpu_s:>8.2f}x"
        )
    walls = [before.wall_s / after.wall_s for before, after in results]
    ratios = [before.cpu_s / after.cpu_s for before, after in results]
    print(
        f"baseline/makerd wall ratio {min(walls):.2f} to {max(walls):.2f}, CPU ratio "
        f"{min(ratios):.2f} to {max(ratios):.2f} over {len(results)} pairs"
    )


def _makerd(
    recording: Path,
    state_dir: Path,
    profile: Path | None,
    source: Path | None = None,
    *,
    options: tuple[str, ...] = (),
) -> Engine:
    """One cold run; ``options`` are more of ``makerd backtest``'s."""
    if profile is not None and source is not None:
        profile = profile.with_name(f"{profile.stem}-baseline{profile.suffix}")
    command = [
        sys.executable,
        *(("-m", "cProfile", "-o", str(profile)) if profile else ()),
        *("-m", "makerd", "backtest", str(recording), "--tick", TICK, "--lot", LOT),
        *("--state-dir", str(state_dir)),
        *options,
    ]
    env = dict(os.environ)
    if source is not None:  # its makerd/ is found before the installed one
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(source), env.get("PYTHONPATH"))))
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        # Run from the state directory's parent: ``-m`` puts the working directory first on
        # the path, where a checkout's own makerd/ would shadow the one meant.
        cwd = state_dir.parent
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
        # This child's own figures (RUSAGE_CHILDREN would mix in the runs before it).
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        sys.exit(f"makerd backtest failed ({child.returncode}):\n{stderr}")
    values = dict(_label_value(line) for line in stdout.splitlines())
    name = "makerd" if source is None else "baseline"
    return Engine(
        name=name + (" (profiled)" if profile else ""),
        note="" if source is None else f"makerd of {source}",
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,
        fills=values.get("fills", "?"),
        pnl=values.get("total pnl", "?"),
    )


def _hftbacktest(recording: Path, strategy: tuple[str, ...]) -> Engine:
    try:
        figures = run_hftbacktest(recording, tick=TICK, lot=LOT, extra_args=strategy)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
        return Engine(
            name="hftbacktest 2.4.4",
            wall_s=float("nan"),
            cpu_s=float("nan"),
            peak_rss_mib=float("nan"),
            fills="-",
            pnl="-",
            note=f"not run: {str(error).splitlines()[0]}",
        )
    return Engine(
        name="hftbacktest 2.4.4",
        wall_s=float(figures["cold_without_convert_s"]),
        cpu_s=float("nan"),  # its process also converts the file: not comparable
        peak_rss_mib=float(figures["peak_rss_mib"]),
        fills=str(figures["fills"]),
        pnl=f"{float(figures['pnl']):.2f} USD",
        note=(
            f"convert {figures['convert_s']:.1f} s (not in cold), first run with JIT "
            f"{figures['first_run_s']:.2f} s, warm run {figures['warm_run_s']:.2f} s, "
            f"process {figures['process_wall_s']:.1f} s"
        ),
    )


def _print_table(engines: list[Engine], events: int) -> None:
    base = engines[-1].wall_s
    print(
        f"{'engine':<20} {'cold wall':>10} {'ratio':>6} {'CPU':>9} {'peak RSS':>9} "
        f"{'events/s':>10} {'fills':>6} {'PnL':>14}"
    )
    for engine in engines:
        print(
            f"{engine.name:<20} {engine.wall_s:>8.2f} s {engine.wall_s / base:>5.2f}x "
            f"{engine.cpu_s:>7.2f} s {engine.peak_rss_mib:>5.0f} MiB "
            f"{events / engine.wall_s:>10,.0f} {engine.fills:>6} {engine.pnl:>14}"
        )
    for engine in engines:
        if engine.note:
            print(f"{engine.name}: {engine.note}")


def _print_pairs(journal: Path, their_fills: Path) -> None:
    pairs = pair_fills(journal, their_fills, tick=float(TICK))
    print(
        f"fills paired one by one (same side and price, hftbacktest's seen within "
        f"{WINDOW_NS // 1_000_000} ms of makerd's exchange time): {pairs.paired} of makerd's "
        f"{pairs.makerd} and hftbacktest's {pairs.hftbacktest}"
    )


def _fills(state_dir: Path) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(state_dir / "journal.sqlite")) as journal:
        return journal.execute("SELECT * FROM fills ORDER BY rowid").fetchall()


def _label_value(line: str) -> tuple[str, str]:
    label, _, value = line.partition("  ")
    return label.strip(), value.strip()


if __name__ == "__main__":
    main()
