"""A start on a full disk refuses to trade with one clear line, before any session begins.

``RLIMIT_FSIZE`` of one byte, set before makerd starts, makes every write to a regular
file fail as a full disk does: the journal cannot be opened, so no session may start (a
session makerd cannot account for is one whose fills and stop nobody could read later).
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_FAILURE


def _disk_full() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process


def test_a_start_whose_journal_cannot_be_written_refuses_to_trade_in_one_line(
    tmp_path: Path,
) -> None:
    state = tmp_path / "var"
    command = ["run", "--state-dir", str(state), "--metrics-port", "0", "--duration", "5"]

    run = subprocess.run(
        [sys.executable, "-m", "makerd", *command],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        preexec_fn=_disk_full,
        check=False,
    )
    said = run.stdout + run.stderr

    assert run.returncode == EXIT_FAILURE, said
    assert "Traceback" not in said, said
    assert f"cannot open the journal {state / 'journal.sqlite'}" in said, said
    assert "refusing to trade" in said
    assert "metrics on" not in said, "a session started on a journal it could not write"
