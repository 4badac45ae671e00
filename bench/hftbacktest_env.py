"""Run hftbacktest 2.4.4 on a recording, in its own virtualenv, and return its figures.

hftbacktest pins a numpy that makerd's environment cannot share, so it lives in a
virtualenv of its own under the user's cache directory
(``~/.cache/makerd-bench/hftbacktest-venv``, or ``$XDG_CACHE_HOME``), created with
``pip install hftbacktest==2.4.4`` the first time it is needed and kept (not under /tmp,
which may be wiped). ``bench/hftbacktest_side.py`` then runs there as a subprocess and
prints one JSON line, returned here as a dict with the process's wall time added.
Stdlib only, so any benchmark can import it.

Run: ``python bench/hftbacktest_env.py RECORDING --tick 1 --lot 0.00001`` (arguments after
the recording go to the side script: ``--queue-model``, fees, latencies, the strategy's
settings). ``bench/bench_backtest.py`` writes a seeded recording and runs both engines on it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

VERSION = "2.4.4"
SIDE_SCRIPT = Path(__file__).resolve().with_name("hftbacktest_side.py")


def default_venv() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "makerd-bench" / "hftbacktest-venv"


def ensure_venv(venv: Path | None = None) -> Path:
    """The virtualenv's python, with hftbacktest installed (created if missing)."""
    venv = venv or default_venv()
    python = venv / "bin" / "python"
    if _has_hftbacktest(python):
        return python
    print(f"installing hftbacktest=={VERSION} into {venv} (once)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"hftbacktest=={VERSION}"],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    if not _has_hftbacktest(python):
        raise RuntimeError(f"{venv}: hftbacktest {VERSION} still not importable after install")
    return python


def run_hftbacktest(
    recording: Path,
    *,
    tick: str,
    lot: str,
    extra_args: tuple[str, ...] = (),
    venv: Path | None = None,
) -> dict[str, Any]:
    """hftbacktest's figures on ``recording``, from a fresh process (so cold means cold)."""
    python = ensure_venv(venv)
    command = [str(python), str(SIDE_SCRIPT), str(recording), "--tick", tick, "--lot", lot]
    started = time.monotonic()
    done = subprocess.run(
        [*command, *extra_args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"hftbacktest side failed ({done.returncode}):\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_wall_s"] = round(wall, 3)
    # The "cold" figure: a fresh process's start, imports, JIT and one run, with the
    # conversion (done once per file, its output cacheable) left out.
    cold = wall - figures["convert_s"] - figures["warm_run_s"]
    figures["cold_without_convert_s"] = round(cold, 3)
    return figures


def _has_hftbacktest(python: Path) -> bool:
    if not python.exists():
        return False
    check = f"import hftbacktest, sys; sys.exit(hftbacktest.__version__ != {VERSION!r})"
    return subprocess.run([str(python), "-c", check], check=False).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path)
    parser.add_argument("--tick", default="1")
    parser.add_argument("--lot", default="0.00001")
    parser.add_argument("--venv", type=Path, help=f"default {default_venv()}")
    args, side_args = parser.parse_known_args()
    figures = run_hftbacktest(
        args.recording, tick=args.tick, lot=args.lot, extra_args=tuple(side_args), venv=args.venv
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
