"""A state directory that stops taking writes mid-run (a full disk): makerd must say so,
stop trading and end with a documented exit code, not sit idle or die with a traceback.

The disk fills for real: the running makerd gets ``RLIMIT_FSIZE`` of one byte, so every
write SQLite (and the latch) makes to a regular file fails with EFBIG, as on a full disk.
Its output goes to a pipe, which the limit does not touch.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_GAVE_UP
from tests.processes import MakerdProcess

DURATION_S = 60


def test_a_disk_that_fills_mid_run_stops_trading_at_once_and_exits_81_without_a_traceback(
    tmp_path: Path,
) -> None:
    run = MakerdProcess(
        ["run", "--duration", str(DURATION_S), "--state-dir", "var", "--metrics-port", "0"],
        cwd=tmp_path,
    )
    run.wait_for(r"makerd sim BTC \| .* orders=[1-9]")

    resource.prlimit(run.proc.pid, resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
    filled_at = time.monotonic()
    code = run.finish(timeout=DURATION_S + 30)
    took_s = time.monotonic() - filled_at

    assert code == EXIT_GAVE_UP, run.text[-4000:]
    assert took_s < DURATION_S / 2, f"makerd traded on for {took_s:.0f} s:\n{run.text[-4000:]}"
    assert "makerd: venue confirms 0 open orders" in run.text
    assert "event=state_write_failed" in run.text
    assert "Traceback (most recent call last)" not in _plain_lines(run.text)


def _plain_lines(text: str) -> str:
    """What makerd printed for a person: not the JSON log lines (their ``exc`` field may
    carry a traceback for the developer)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("{"))
