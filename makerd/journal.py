"""The SQLite journal: sessions, fills (each booked exactly once), order events, equity
snapshots, actor restarts and kill-switch events.

WAL mode with ``synchronous=NORMAL``: a process crash loses nothing committed, a power
cut may lose the last transactions but never corrupts the file (and the venue still has
the fills). Money is stored as exact decimal text and read back as :class:`Decimal`.
One connection serves every thread, serialised by a lock.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

from protocol.account import Liquidity, OrderFilled
from protocol.side import Side

SCHEMA_VERSION = 1
"""Stored in ``PRAGMA user_version``; a journal from another version is refused."""

_SCHEMA = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started_ns INTEGER NOT NULL, ended_ns INTEGER,
    mode TEXT NOT NULL, coin TEXT NOT NULL, summary TEXT);
CREATE TABLE fills (
    trade_id TEXT PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
    cloid TEXT, venue_order_id INTEGER NOT NULL, coin TEXT NOT NULL, side TEXT NOT NULL,
    price TEXT NOT NULL, size TEXT NOT NULL, fee TEXT NOT NULL, liquidity TEXT NOT NULL,
    ts_exchange INTEGER NOT NULL, ts_local INTEGER NOT NULL,
    realized_pnl TEXT NOT NULL, position_after TEXT NOT NULL);
CREATE INDEX fills_by_session ON fills(session_id);
CREATE TABLE order_events (
    session_id INTEGER NOT NULL REFERENCES sessions(id), ts INTEGER NOT NULL,
    cloid TEXT NOT NULL, event TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE equity (
    session_id INTEGER NOT NULL REFERENCES sessions(id), ts INTEGER NOT NULL,
    position TEXT NOT NULL, realized TEXT NOT NULL, unrealized TEXT NOT NULL,
    fees TEXT NOT NULL, mark TEXT NOT NULL);
CREATE INDEX equity_by_session ON equity(session_id, ts);
CREATE TABLE restarts (
    session_id INTEGER NOT NULL REFERENCES sessions(id), ts INTEGER NOT NULL,
    role TEXT NOT NULL, kind TEXT NOT NULL, error TEXT NOT NULL,
    restarts_in_window INTEGER NOT NULL);
CREATE TABLE kill_switch_events (
    ts INTEGER NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('trip', 'clear')));
"""


class JournalError(Exception):
    """The journal file cannot be used (for example, written by another schema version)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class JournaledFill:
    """A booked fill with what it did to the position."""

    session_id: int
    fill: OrderFilled
    realized_pnl: Decimal
    position_after: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class EquitySnapshot:
    """The ledger at ``ts_ns``; total PnL is realized + unrealized − fees."""

    ts_ns: int
    position: Decimal
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    mark: Decimal

    @property
    def total_pnl(self) -> Decimal:
        return self.realized + self.unrealized - self.fees


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    id: int
    started_ns: int
    ended_ns: int | None
    mode: str
    coin: str
    summary_json: str | None


class Journal:
    """Append-mostly store of everything a session did; see the module docstring."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
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
        if version == 0:
            self._db.executescript(
                f"BEGIN; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
            )
        elif version != SCHEMA_VERSION:
            raise JournalError(
                f"{self.path}: journal schema version {version}, this makerd reads {SCHEMA_VERSION}"
            )

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (SQLite checkpoints the WAL); later calls are no-ops."""
        with self._lock:
            self._db.close()

    def start_session(self, *, mode: str, coin: str, ts_ns: int) -> int:
        """Open a new session and return its id."""
        cursor = self._write(
            "INSERT INTO sessions (started_ns, mode, coin) VALUES (?, ?, ?)", (ts_ns, mode, coin)
        )
        if cursor.lastrowid is None:
            raise JournalError("SQLite did not return the new session's id")
        return cursor.lastrowid

    def end_session(self, session_id: int, *, ts_ns: int, summary_json: str) -> None:
        """Close ``session_id`` with its end time and a JSON summary."""
        cursor = self._write(
            "UPDATE sessions SET ended_ns = ?, summary = ? WHERE id = ?",
            (ts_ns, summary_json, session_id),
        )
        if cursor.rowcount != 1:
            raise KeyError(f"no session {session_id} in the journal")

    def record_fill(
        self,
        session_id: int,
        fill: OrderFilled,
        *,
        realized_pnl: Decimal,
        position_after: Decimal,
    ) -> bool:
        """Book ``fill``; True if new, False if its trade id was already journaled.

        Only a duplicate trade id is ignored (``ON CONFLICT(trade_id) DO NOTHING``);
        unlike ``INSERT OR IGNORE`` any other constraint failure still raises.
        """
        cursor = self._write(
            "INSERT INTO fills (trade_id, session_id, cloid, venue_order_id, coin, side,"
            " price, size, fee, liquidity, ts_exchange, ts_local, realized_pnl,"
            " position_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(trade_id) DO NOTHING",
            (
                fill.trade_id,
                session_id,
                fill.cloid,
                fill.venue_order_id,
                fill.coin,
                fill.side.value,
                _text(fill.price),
                _text(fill.size),
                _text(fill.fee),
                fill.liquidity.value,
                fill.ts_exchange,
                fill.ts_local,
                _text(realized_pnl),
                _text(position_after),
            ),
        )
        return cursor.rowcount == 1

    def booked_trade_ids(self) -> set[str]:
        """Every trade id in the journal, across sessions (for deduplication on restart)."""
        return {row[0] for row in self._read("SELECT trade_id FROM fills", ())}

    def fills(self, session_id: int | None = None) -> list[JournaledFill]:
        """Booked fills in booking order, of one session or of all."""
        columns = (
            "session_id, trade_id, cloid, venue_order_id, coin, side, price, size, fee,"
            " liquidity, ts_exchange, ts_local, realized_pnl, position_after"
        )
        if session_id is None:
            rows = self._read(f"SELECT {columns} FROM fills ORDER BY rowid", ())
        else:
            rows = self._read(
                f"SELECT {columns} FROM fills WHERE session_id = ? ORDER BY rowid", (session_id,)
            )
        return [_fill_from_row(row) for row in rows]

    def session_fills(self, session_id: int) -> list[OrderFilled]:
        """The fills one session booked, in booking order (what a restarted tracker replays)."""
        return [booked.fill for booked in self.fills(session_id)]

    def record_equity(
        self,
        session_id: int,
        *,
        ts_ns: int,
        position: Decimal,
        realized: Decimal,
        unrealized: Decimal,
        fees: Decimal,
        mark: Decimal,
    ) -> None:
        """Snapshot the ledger (feeds the report's unrealized PnL and drawdown)."""
        self._write(
            "INSERT INTO equity (session_id, ts, position, realized, unrealized, fees, mark)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session_id, ts_ns, *(_text(v) for v in (position, realized, unrealized, fees, mark))),
        )

    def equity(self, session_id: int) -> list[EquitySnapshot]:
        """The session's equity snapshots in time order."""
        rows = self._read(
            "SELECT ts, position, realized, unrealized, fees, mark FROM equity"
            " WHERE session_id = ? ORDER BY ts, rowid",
            (session_id,),
        )
        return [
            EquitySnapshot(
                ts_ns=ts,
                position=Decimal(position),
                realized=Decimal(realized),
                unrealized=Decimal(unrealized),
                fees=Decimal(fees),
                mark=Decimal(mark),
            )
            for ts, position, realized, unrealized, fees, mark in rows
        ]

    def record_order_event(
        self, session_id: int, *, ts_ns: int, cloid: str, event: str, detail: str = ""
    ) -> None:
        """One step of an order's life (placed, modified, cancelled, rejected...)."""
        self._write(
            "INSERT INTO order_events (session_id, ts, cloid, event, detail)"
            " VALUES (?, ?, ?, ?, ?)",
            (session_id, ts_ns, cloid, event, detail),
        )

    def order_events(self, session_id: int) -> list[tuple[int, str, str, str]]:
        """``(ts_ns, cloid, event, detail)`` rows of the session, in recording order."""
        rows = self._read(
            "SELECT ts, cloid, event, detail FROM order_events WHERE session_id = ? ORDER BY rowid",
            (session_id,),
        )
        return [(ts, cloid, event, detail) for ts, cloid, event, detail in rows]

    def record_restart(
        self,
        session_id: int,
        *,
        ts_ns: int,
        role: str,
        kind: str,
        error: str,
        restarts_in_window: int,
    ) -> None:
        """An actor restart: ``kind`` is why (abnormal, hung), ``error`` the exception text."""
        self._write(
            "INSERT INTO restarts (session_id, ts, role, kind, error, restarts_in_window)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, ts_ns, role, kind, error, restarts_in_window),
        )

    def restart_count(self, session_id: int) -> int:
        """How many actor restarts the session had."""
        rows = self._read("SELECT COUNT(*) FROM restarts WHERE session_id = ?", (session_id,))
        return int(rows[0][0])

    def record_kill_switch(self, *, ts_ns: int, action: str, reason: str, detail: str) -> None:
        """A latch trip (``action="trip"``) or an operator's clear (``action="clear"``)."""
        self._write(
            "INSERT INTO kill_switch_events (ts, reason, detail, action) VALUES (?, ?, ?, ?)",
            (ts_ns, reason, detail, action),
        )

    def kill_switch_events(self) -> list[tuple[int, str, str, str]]:
        """``(ts_ns, action, reason, detail)`` rows, oldest first."""
        rows = self._read(
            "SELECT ts, action, reason, detail FROM kill_switch_events ORDER BY rowid", ()
        )
        return [(ts, action, reason, detail) for ts, action, reason, detail in rows]

    def session(self, session_id: int) -> SessionRecord:
        """The session's row; KeyError if there is none."""
        rows = self._read(
            "SELECT id, started_ns, ended_ns, mode, coin, summary FROM sessions WHERE id = ?",
            (session_id,),
        )
        if not rows:
            raise KeyError(f"no session {session_id} in the journal")
        sid, started_ns, ended_ns, mode, coin, summary = rows[0]
        return SessionRecord(
            id=sid, started_ns=started_ns, ended_ns=ended_ns, mode=mode, coin=coin,
            summary_json=summary,
        )  # fmt: skip

    def session_ids(self) -> list[int]:
        """Every session in the journal, oldest first."""
        return [int(row[0]) for row in self._read("SELECT id FROM sessions ORDER BY id", ())]

    def latest_session_id(self) -> int | None:
        """The most recently started session, or None for an empty journal."""
        rows = self._read("SELECT MAX(id) FROM sessions", ())
        return None if rows[0][0] is None else int(rows[0][0])

    def _write(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, params)

    def _read(self, sql: str, params: tuple[object, ...]) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()


def _text(value: Decimal) -> str:
    """Exact, human-readable decimal text; refuses NaN and infinities."""
    if not value.is_finite():
        raise ValueError(f"refusing to journal a non-finite amount: {value}")
    return format(value, "f")


def _fill_from_row(row: Any) -> JournaledFill:
    (session_id, trade_id, cloid, venue_order_id, coin, side, price, size, fee, liquidity,
     ts_exchange, ts_local, realized_pnl, position_after) = row  # fmt: skip
    fill = OrderFilled(
        trade_id=trade_id,
        cloid=cloid,
        venue_order_id=venue_order_id,
        coin=coin,
        side=Side(side),
        price=Decimal(price),
        size=Decimal(size),
        fee=Decimal(fee),
        liquidity=Liquidity(liquidity),
        ts_exchange=ts_exchange,
        ts_local=ts_local,
    )
    return JournaledFill(
        session_id=session_id,
        fill=fill,
        realized_pnl=Decimal(realized_pnl),
        position_after=Decimal(position_after),
    )
