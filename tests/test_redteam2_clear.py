"""``makerd kill-switch clear`` on a disk that refuses the journal's record of it: the clear
is refused and the latch kept (fail closed), said in one line, without a traceback.

The disk fills for real: the command runs with ``RLIMIT_FSIZE`` of one byte, so every
write SQLite makes to a regular file fails as on a full disk (removing a file still works).
"""

from __future__ import annotations

import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_FAILURE
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch


def test_a_clear_the_journal_cannot_record_is_refused_and_the_latch_stays(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    KillSwitchLatch(state).trip(reason="max_drawdown", detail="lost 300 USD", ts_ns=1)

    # Open here too, so that the journal's shared-memory and WAL files exist: the command
    # opens the journal, and only its write is refused.
    with Journal(state / "journal.sqlite"):
        cleared = _clear_on_a_full_disk(state)

    assert cleared.returncode == EXIT_FAILURE, cleared.stdout + cleared.stderr
    assert "Traceback" not in cleared.stderr
    assert "makerd: not cleared: cannot record the clear in the journal" in cleared.stderr
    assert KillSwitchLatch(state).read() is not None, "a clear nobody can find was carried out"
    with sqlite3.connect(state / "journal.sqlite") as db:
        assert db.execute("SELECT count(*) FROM kill_switch_events").fetchone() == (0,)


def _clear_on_a_full_disk(state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "makerd", "kill-switch", "clear", "--state-dir", str(state)],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
        preexec_fn=_disk_full,
    )


def _disk_full() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
