"""Making a start step fail for real, and reading what the failed start left behind."""

from __future__ import annotations

import json
import socket
import sqlite3
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from makerd.daemon.journal import Journal


def journal_refusing_equity(state_dir: Path) -> None:
    """A journal that refuses the fill tracker's first write (its start journals its
    state), as a disk that filled just after the session row was written would.

    Creates the journal if there is none yet; the trigger is plain SQLite, so makerd reads
    and writes every other table as usual.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    Journal(state_dir / "journal.sqlite").close()  # the schema, if makerd never ran here
    with sqlite3.connect(state_dir / "journal.sqlite") as db:
        db.execute(
            "CREATE TRIGGER disk_full BEFORE INSERT ON equity "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )


def journal_writable_again(state_dir: Path) -> None:
    """Undo :func:`journal_refusing_equity`: the disk has room again."""
    with sqlite3.connect(state_dir / "journal.sqlite") as db:
        db.execute("DROP TRIGGER disk_full")


def last_session_end(state_dir: Path) -> tuple[bool, str | None]:
    """Whether the journal's last session has ended, and its ``stopped`` row's detail."""
    with sqlite3.connect(state_dir / "journal.sqlite") as db:
        session_id, ended_ns = db.execute(
            "SELECT id, ended_ns FROM sessions ORDER BY id DESC LIMIT 1"
        ).fetchone()
        stopped = db.execute(
            "SELECT detail FROM order_events WHERE session_id = ? AND event = 'stopped'",
            (session_id,),
        ).fetchone()
    return ended_ns is not None, None if stopped is None else str(stopped[0])


def printed_traceback(output: str) -> bool:
    """Whether Python printed a traceback: an uncaught exception, not a structured log
    record (an actor's crash is logged as one JSON line, its stack in the ``exc`` field)."""
    return any("Traceback" in line for line in output.splitlines() if not line.startswith("{"))


@contextmanager
def held_port() -> Iterator[int]:
    """A loopback port this test listens on, so makerd finds it taken."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def session_rows(state_dir: Path) -> int:
    """How many sessions the journal holds (each start that reached the venue leaves one)."""
    with sqlite3.connect(state_dir / "journal.sqlite") as db:
        (count,) = db.execute("SELECT COUNT(*) FROM sessions").fetchone()
    return int(count)


def requests_received(venue_url: str) -> list[dict[str, object]]:
    """Every request the local venue at ``venue_url`` has received (``/_debug/stamps``)."""
    with urllib.request.urlopen(venue_url + "/_debug/stamps", timeout=5) as response:
        listed: list[dict[str, object]] = json.loads(response.read())["requests"]
    return listed
