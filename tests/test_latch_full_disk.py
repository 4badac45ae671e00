"""A kill switch tripped on a full disk is still latched for the next start.

launchd relaunches every non-zero exit, 80 and 81 included, so the latch file is all that
keeps a relaunched makerd from trading. The disk fills for real, in the running makerd:
``RLIMIT_FSIZE`` of one byte makes every write to a regular file fail (EFBIG), the
journal's and the latch's alike, as a full disk does; creating an empty file, linking and
renaming still work, as they do on a full disk.
"""

from __future__ import annotations

import resource
import sqlite3
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_GAVE_UP, EXIT_KILL_SWITCH, EXIT_OK
from tests.ctl_kit import makerd_cli
from tests.processes import MakerdProcess


def test_a_run_relaunched_after_a_full_disk_stopped_trading_refuses_to_trade(
    tmp_path: Path,
) -> None:
    state = tmp_path / "var"
    first = MakerdProcess(_run("--duration", "60"), cwd=tmp_path)
    first.wait_for(r"makerd sim BTC \| .* orders=[1-9]")

    resource.prlimit(first.proc.pid, resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
    stopped = first.finish(timeout=90)
    relaunched = MakerdProcess(_run("--duration", "2"), cwd=tmp_path)  # what launchd does
    relaunched_code = relaunched.finish(timeout=60)
    status = makerd_cli("kill-switch", "status", "--state-dir", str(state))
    cleared = makerd_cli("kill-switch", "clear", "--state-dir", str(state))
    after = makerd_cli("kill-switch", "status", "--state-dir", str(state))

    assert stopped == EXIT_GAVE_UP, first.text[-4000:]
    assert relaunched_code == EXIT_KILL_SWITCH, relaunched.text[-4000:]
    assert "kill switch is latched (reason=latched_on_full_disk" in relaunched.text
    assert "event=kill_switch_latched_on_full_disk" in first.text, first.text[-4000:]
    assert "venue confirms" not in relaunched.text, "the relaunched run started trading"
    assert "kill switch LATCHED" in status.stdout, status.stdout + status.stderr
    assert "the disk was full" in status.stdout
    assert cleared.returncode == EXIT_OK, cleared.stdout + cleared.stderr
    assert "not latched" in after.stdout, after.stdout + after.stderr
    with sqlite3.connect(state / "journal.sqlite") as db:
        clears = db.execute(
            "SELECT reason FROM kill_switch_events WHERE action = 'clear'"
        ).fetchall()
    assert clears == [("latched_on_full_disk",)]


def _run(*extra: str) -> list[str]:
    return ["run", "--state-dir", "var", "--metrics-port", "0", *extra]
