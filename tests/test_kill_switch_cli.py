"""``makerd kill-switch status|clear`` (and the older ``clear-kill-switch``) on a latch."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_OK
from makerd.daemon.latch import KillSwitchLatch
from tests.ctl_kit import makerd_cli

TRIPPED_NS = 1_700_000_000 * 1_000_000_000  # 2023-11-14T22:13:20Z


def test_status_shows_a_latch_and_clear_removes_it_with_a_journal_row(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    KillSwitchLatch(state).trip(reason="session_loss", detail="lost 201 USD", ts_ns=TRIPPED_NS)
    where = ("--state-dir", str(state))

    latched = makerd_cli("kill-switch", "status", *where)
    cleared = makerd_cli("kill-switch", "clear", *where)
    after = makerd_cli("kill-switch", "status", *where)
    again = makerd_cli("clear-kill-switch", *where)

    assert latched.returncode == EXIT_OK, latched.stderr
    assert "kill switch LATCHED" in latched.stdout
    assert "since 2023-11-14T22:13:20Z" in latched.stdout
    assert "reason=session_loss: lost 201 USD" in latched.stdout
    assert cleared.returncode == EXIT_OK, cleared.stderr
    assert "cleared kill switch (reason=session_loss: lost 201 USD)" in cleared.stdout
    assert "not latched" in after.stdout
    assert again.returncode == EXIT_OK
    assert "no kill switch latched" in again.stdout
    assert not KillSwitchLatch(state).is_tripped
    with sqlite3.connect(state / "journal.sqlite") as db:
        rows = list(db.execute("SELECT action, reason, detail FROM kill_switch_events"))
    [(action, reason, detail)] = rows
    assert (action, reason) == ("clear", "session_loss")
    assert "lost 201 USD" in detail
