"""A state directory that stops taking writes mid-run (a full disk): makerd must say so,
stop trading and end with a documented exit code, not sit idle or die with a traceback;
and the journal must never call a fill booked that is not on disk.

The disk fills for real: the process gets ``RLIMIT_FSIZE`` of one byte, so every write
SQLite (and the latch) makes to a regular file fails with EFBIG, as on a full disk. Its
output goes to a pipe, which the limit does not touch.
"""

from __future__ import annotations

import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_GAVE_UP
from tests.processes import MakerdProcess

DURATION_S = 60
REPOSITORY = Path(__file__).resolve().parents[1]
A_BATCH_FAILS_THEN_A_FILL_IS_BOOKED = """
import resource, sys
from decimal import Decimal
from pathlib import Path
from makerd.actors.quote_sampler import QuoteSample
from makerd.daemon.journal import Journal
from makerd.protocol.side import Side
from tests.kit import T0, fill

journal = Journal(Path(sys.argv[1]))
session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
sample = QuoteSample(
    ts_local=T0, bid=Decimal(1), ask=Decimal(2), touch_bid=Decimal(1), touch_ask=Decimal(2)
)
resource.setrlimit(resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))  # the disk is full
try:
    journal.report_tables.record_quote_samples(session, [sample] * 200)
except Exception as error:
    print("batch refused:", error)
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
booked = journal.record_fill(
    session, fill("BTC:1", Side.BUY, "60000", "0.01"), realized_pnl=Decimal(0),
    position_after=Decimal("0.01"),
)
print("fill booked:", booked)
journal.close()
"""


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


def test_a_fill_booked_after_a_batch_write_failed_on_a_full_disk_is_on_disk(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    # Its own process: the file-size limit that fills the disk must not touch pytest's files.
    said = subprocess.check_output(
        [sys.executable, "-c", A_BATCH_FAILS_THEN_A_FILL_IS_BOOKED, str(path)],
        cwd=REPOSITORY,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )

    assert "batch refused:" in said
    assert "fill booked: True" in said
    with sqlite3.connect(path) as db:
        on_disk = db.execute("SELECT trade_id FROM fills").fetchall()
    assert on_disk == [("BTC:1",)], "the journal said booked, and the fill was never written"
