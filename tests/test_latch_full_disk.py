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
import subprocess
import sys
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_GAVE_UP, EXIT_KILL_SWITCH, EXIT_OK
from makerd.daemon.latch import KillSwitchLatch
from tests.ctl_kit import makerd_cli
from tests.processes import MakerdProcess

REPOSITORY = Path(__file__).resolve().parents[1]
TRIPPED_NS = 1_700_000_000 * 1_000_000_000
TRIP_ON_A_FULL_DISK = f"""
import logging, resource, sys
from pathlib import Path
from makerd.daemon.latch import KillSwitchLatch

logging.basicConfig(stream=sys.stdout, format="%(message)s")
latch = KillSwitchLatch(Path(sys.argv[1]))
resource.setrlimit(resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))  # the disk is full
latch.trip(reason="stale_feed", detail="no market data for 61.0s", ts_ns={TRIPPED_NS})
"""


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


def test_a_trip_on_a_full_disk_latches_the_reserve_with_the_trips_time(tmp_path: Path) -> None:
    KillSwitchLatch(tmp_path).reserve()  # as makerd run does at start

    said = _trip_on_a_full_disk(tmp_path)
    status = makerd_cli("kill-switch", "status", "--state-dir", str(tmp_path))

    assert "event=kill_switch_latched_on_full_disk reason=stale_feed" in said
    assert "Traceback" not in said
    assert "kill switch LATCHED" in status.stdout, status.stdout + status.stderr
    assert "since 2023-11-14T22:13:20Z (reason=latched_on_full_disk" in status.stdout


def test_a_trip_on_a_full_disk_keeps_the_reason_an_earlier_trip_wrote(tmp_path: Path) -> None:
    latch = KillSwitchLatch(tmp_path)
    latch.reserve()
    latch.trip(reason="max_drawdown", detail="lost 300 USD", ts_ns=1)

    said = _trip_on_a_full_disk(tmp_path)
    kept = latch.read()

    assert "event=kill_switch_reason_not_written reason=stale_feed" in said
    assert kept is not None
    assert (kept.reason, kept.detail) == ("max_drawdown", "lost 300 USD")


def _trip_on_a_full_disk(state: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", TRIP_ON_A_FULL_DISK, str(state)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr
