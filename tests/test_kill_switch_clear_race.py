"""Two ``makerd kill-switch clear`` at the same moment: one clears (one journal row), the
other finds the latch already cleared. Real processes on a real journal, many rounds."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_OK
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch

ROUNDS = 15


def test_of_two_clears_at_once_exactly_one_clears_and_journals_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    Journal(state / "journal.sqlite").close()  # the schema exists, as after any run
    latch = KillSwitchLatch(state)
    said: list[tuple[str, str]] = []

    for round_number in range(ROUNDS):
        latch.trip(reason=f"round_{round_number}", detail="", ts_ns=round_number)
        first, second = _clear(state), _clear(state)
        said.append(_finish(first))
        said.append(_finish(second))

    rows = _clear_rows(state)
    assert rows == [f"round_{n}" for n in range(ROUNDS)], said
    assert sum("makerd: cleared kill switch" in out for out, _ in said) == ROUNDS, said
    assert sum("no kill switch latched" in out for out, _ in said) == ROUNDS, said
    assert latch.read() is None


def _clear(state: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "makerd", "kill-switch", "clear", "--state-dir", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    out, err = process.communicate(timeout=60)
    assert process.returncode == EXIT_OK, out + err
    return out, err


def _clear_rows(state: Path) -> list[str]:
    with sqlite3.connect(state / "journal.sqlite") as db:
        rows = db.execute(
            "SELECT reason FROM kill_switch_events WHERE action = 'clear' ORDER BY rowid"
        ).fetchall()
    return [str(reason) for (reason,) in rows]
