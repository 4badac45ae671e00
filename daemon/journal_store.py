"""The journal's SQLite connection: opening, schema version, and serialised access.

WAL mode with ``synchronous=NORMAL``: a process crash loses nothing committed, a power
cut may lose the last transactions but never corrupts the file (and the venue still has
the fills). Money is stored as exact decimal text and read back as :class:`Decimal`.
One connection serves every thread, serialised by a lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from makerd.daemon.journal_schema import SCHEMA_VERSION, create_or_migrate

PAGE_ROWS = 5_000
"""Rows read at once by the paged readers: memory stays flat however long the session."""
Read = Callable[[str, tuple[object, ...]], list[Any]]


def session_rows_in_pages(
    read: Read, *, table: str, columns: str, session_id: int, page: int
) -> Iterator[tuple[Any, ...]]:
    """``columns`` of a session's rows of ``table`` in time order (ties in insertion
    order), read ``page`` rows at a time by their (ts, rowid) key; each row starts with
    ts and rowid."""
    after: tuple[int, int] = (-1, -1)
    while rows := read(
        f"SELECT ts, rowid, {columns} FROM {table}"
        " WHERE session_id = ? AND (ts > ? OR (ts = ? AND rowid > ?))"
        " ORDER BY ts, rowid LIMIT ?",
        (session_id, after[0], after[0], after[1], page),
    ):
        yield from rows
        after = (rows[-1][0], rows[-1][1])


class JournalError(Exception):
    """The journal file cannot be used (for example, written by another schema version)."""


class JournalStore:
    """The open journal file; the tables' records are built on it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._group_every = 0
        """Writes per transaction (0: each write is its own); see :meth:`group_writes`."""
        self._grouped = 0
        # Autocommit: each statement is its own transaction, so nothing waits for a commit.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._prepare()
        except BaseException:
            self._db.close()
            raise

    def _prepare(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"{self.path}: journal schema version {version}, this makerd reads "
                f"{SCHEMA_VERSION} and older"
            )
        create_or_migrate(self._db, version)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Commit grouped writes, close the connection (SQLite checkpoints the WAL); later
        calls are no-ops."""
        with self._lock:
            try:
                if self._group_every:
                    self._commit_group()
            except sqlite3.ProgrammingError:  # closed already
                pass
            finally:
                self._db.close()

    def group_writes(self, every: int) -> None:
        """Commit once per ``every`` writes instead of after each (``close`` commits the rest).

        For a journal that one deterministic run owns (a backtest, a simulated session):
        a transaction per row is most of what a row costs, and a run that dies is run
        again. Until a group is committed, another connection does not see its rows.
        """
        with self._lock:
            self._commit_group()
            self._group_every = every

    def _write(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        with self._lock:
            if not self._group_every:
                return self._db.execute(sql, params)
            if not self._db.in_transaction:
                self._db.execute("BEGIN")
            cursor = self._db.execute(sql, params)
            self._grouped += 1
            if self._grouped >= self._group_every:
                self._commit_group()
            return cursor

    def _commit_group(self) -> None:
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._grouped = 0

    def _read(self, sql: str, params: tuple[object, ...]) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()


def write_many(
    db: sqlite3.Connection, lock: threading.Lock, sql: str, rows: Sequence[tuple[object, ...]]
) -> None:
    """``sql`` once per row, all or none: a transaction of its own, or a savepoint inside
    the open one of grouped writes (:meth:`JournalStore.group_writes`)."""
    with lock:
        db.execute("SAVEPOINT write_many")
        try:
            db.executemany(sql, rows)
        except BaseException:
            # Else the connection stays inside the savepoint's transaction.
            db.execute("ROLLBACK TO write_many")
            db.execute("RELEASE write_many")
            raise
        db.execute("RELEASE write_many")


def decimal_text(value: Decimal) -> str:
    """Exact, human-readable decimal text; refuses NaN and infinities."""
    if not value.is_finite():
        raise ValueError(f"refusing to journal a non-finite amount: {value}")
    return format(value, "f")
