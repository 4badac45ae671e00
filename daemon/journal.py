"""The SQLite journal: sessions, fills (each booked exactly once), order events, equity
snapshots, actor restarts and operators' commands.

The report's tables, our orders' changes and the measured acknowledgement latencies are
kept by :mod:`makerd.journal_extras`, :mod:`makerd.journal_own_orders` and
:mod:`makerd.journal_latency`. Funding payments, the risk state and kill-switch events are in
:mod:`makerd.journal_records`; the connection itself in :mod:`makerd.journal_store`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from makerd.daemon.journal_extras import ReportTables
from makerd.daemon.journal_latency import AckLatencyTable
from makerd.daemon.journal_own_orders import OwnOrderTable
from makerd.daemon.journal_records import RiskAndFundingRecords
from makerd.daemon.journal_schema import SCHEMA_VERSION
from makerd.daemon.journal_store import PAGE_ROWS, JournalError, session_rows_in_pages
from makerd.daemon.journal_store import decimal_text as _text
from makerd.protocol.account import Liquidity, OrderFilled, PositionChanged
from makerd.protocol.side import Side

__all__ = ["SCHEMA_VERSION", "EquitySnapshot", "Journal", "JournalError", "JournaledFill"]


@dataclass(frozen=True, slots=True, kw_only=True)
class JournaledFill:
    """A booked fill with what it did to the position."""

    session_id: int
    fill: OrderFilled
    realized_pnl: Decimal
    position_after: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class EquitySnapshot:
    """The ledger at ``ts_ns``, as the fill tracker published it to the risk guardian;
    total PnL is realized + unrealized − fees + funding."""

    ts_ns: int
    position: Decimal
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    mark: Decimal
    funding: Decimal = Decimal(0)

    @property
    def total_pnl(self) -> Decimal:
        return self.realized + self.unrealized - self.fees + self.funding


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    id: int
    started_ns: int
    ended_ns: int | None
    mode: str
    coin: str
    summary_json: str | None


class Journal(RiskAndFundingRecords):
    """Append-mostly store of everything a session did; see the module docstring."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.report_tables = ReportTables(self._db, self._lock)
        self.own_orders = OwnOrderTable(self._db, self._lock)
        self.ack_latencies = AckLatencyTable(self._db, self._lock)

    def start_session(self, *, mode: str, coin: str, ts_ns: int, account: str | None = None) -> int:
        """Open a new session and return its id.

        ``account`` names the venue account whose fills the journal keeps across sessions
        (live trading); None for an account that lives and dies with the session (sim, paper).
        """
        cursor = self._write(
            "INSERT INTO sessions (started_ns, mode, coin, account) VALUES (?, ?, ?, ?)",
            (ts_ns, mode, coin, account),
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
            " position_after, late) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
                int(fill.late),
            ),
        )
        return cursor.rowcount == 1

    def booked_trade_ids(self) -> set[str]:
        """Every trade id in the journal, across sessions (for deduplication on restart)."""
        return {row[0] for row in self._read("SELECT trade_id FROM fills", ())}

    def has_fill(self, trade_id: str) -> bool:
        """Whether a fill with this trade id is journaled, in any session (its key)."""
        return bool(self._read("SELECT 1 FROM fills WHERE trade_id = ?", (trade_id,)))

    def fills(self, session_id: int | None = None) -> list[JournaledFill]:
        """Booked fills in booking order, of one session or of all."""
        if session_id is not None:
            return list(self.fills_in_pages(session_id))
        rows = self._read(f"SELECT {_FILL_COLUMNS} FROM fills ORDER BY rowid", ())
        return [_fill_from_row(row) for row in rows]

    def session_fills(self, session_id: int) -> list[OrderFilled]:
        """The fills one session booked, in booking order (what a restarted tracker replays)."""
        return [booked.fill for booked in self.fills(session_id)]

    def account_fills(self, account: str, coin: str) -> list[OrderFilled]:
        """Every fill of ``account`` in ``coin`` over all its sessions, in booking order."""
        rows = self._read(
            f"SELECT {_FILL_COLUMNS} FROM fills JOIN sessions ON fills.session_id = sessions.id"
            " WHERE sessions.account = ? AND fills.coin = ? ORDER BY fills.rowid",
            (account, coin),
        )
        return [_fill_from_row(row).fill for row in rows]

    def account_since_ns(self, account: str) -> int | None:
        """When this journal began to keep ``account``'s fills: its first session's start,
        on the exchange's clock where the session's host lead is known."""
        rows = self._read(
            "SELECT MIN(started_ns - MAX(0, COALESCE(host_lead_ns, 0))) FROM sessions"
            " WHERE account = ?",
            (account,),
        )
        return None if rows[0][0] is None else int(rows[0][0])

    def record_host_lead(self, session_id: int, lead_ns: int) -> None:
        """How far the session's host clock ran ahead of the exchange's (the first reading
        stays: a session's start was taken on the clock it had then)."""
        self._write(
            "UPDATE sessions SET host_lead_ns = ? WHERE id = ? AND host_lead_ns IS NULL",
            (lead_ns, session_id),
        )

    def record_position_adjustment(
        self, *, account: str, coin: str, ts_ns: int, size: Decimal, reason: str
    ) -> None:
        """A position change no fill explains (found after a completed fills repair)."""
        self._write(
            "INSERT INTO position_adjustments (account, coin, ts, size, reason)"
            " VALUES (?, ?, ?, ?, ?)",
            (account, coin, ts_ns, _text(size), reason),
        )

    def position_adjustments(self, account: str, coin: str) -> list[tuple[int, Decimal]]:
        """``(ts_ns, signed size)`` adjustments of ``account`` in ``coin``, oldest first."""
        rows = self._read(
            "SELECT ts, size FROM position_adjustments WHERE account = ? AND coin = ?"
            " ORDER BY rowid",
            (account, coin),
        )
        return [(int(ts), Decimal(size)) for ts, size in rows]

    def record_equity(self, session_id: int, published: PositionChanged) -> None:
        """Keep a state of the ledger exactly as the fill tracker published it (to the risk
        guardian among others): the report's PnL and drawdown come from these rows."""
        figures = (
            published.position, published.realized_pnl, published.unrealized_pnl,
            published.fees_paid, published.mark, published.funding,
        )  # fmt: skip
        self._write(
            "INSERT INTO equity (session_id, ts, position, realized, unrealized, fees, mark,"
            " funding) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, published.ts_local, *(_text(v) for v in figures)),
        )

    def last_mark(self, session_id: int, coin: str) -> Decimal:
        """The newest mark the session's ledger was valued at; before its first, the mark of
        the row :meth:`last_account_total` carries in (0: none). A session written here
        directly quotes one coin, ``coin`` (a basket's rows carry no mark: its coins' marks
        are kept by :class:`~makerd.actors.account_equity.AccountEquity`)."""
        rows = self._read(
            "SELECT mark FROM equity WHERE session_id = ? AND CAST(mark AS REAL) > 0"
            " ORDER BY ts DESC, rowid DESC LIMIT 1",
            (session_id,),
        ) or self._read(
            "SELECT mark FROM equity JOIN sessions ON equity.session_id = sessions.id"
            " WHERE sessions.account = (SELECT account FROM sessions WHERE id = ?)"
            " AND sessions.coin = ? AND sessions.id < ?"
            " ORDER BY equity.ts DESC, equity.rowid DESC LIMIT 1",
            (session_id, coin, session_id),
        )
        return Decimal(rows[0][0]) if rows else Decimal(0)

    def equity(self, session_id: int) -> list[EquitySnapshot]:
        """The session's equity snapshots in the order they were published."""
        return list(self.equity_in_pages(session_id))

    def equity_in_pages(
        self, session_id: int, *, page: int = PAGE_ROWS
    ) -> Iterator[EquitySnapshot]:
        """:meth:`equity`, read ``page`` rows at a time: memory stays flat however long the
        session (a days-long backtest publishes millions of snapshots)."""
        rows = session_rows_in_pages(
            self._read,
            table="equity",
            columns="position, realized, unrealized, fees, mark, funding",
            session_id=session_id,
            page=page,
        )
        for ts, _rowid, position, realized, unrealized, fees, mark, funding in rows:
            yield EquitySnapshot(
                ts_ns=ts,
                position=Decimal(position),
                realized=Decimal(realized),
                unrealized=Decimal(unrealized),
                fees=Decimal(fees),
                mark=Decimal(mark),
                funding=Decimal(funding),
            )

    def fills_in_pages(self, session_id: int, *, page: int = PAGE_ROWS) -> Iterator[JournaledFill]:
        """The session's fills in booking order, read ``page`` rows at a time."""
        after = -1
        while rows := self._read(
            f"SELECT fills.rowid, {_FILL_COLUMNS} FROM fills"
            " WHERE session_id = ? AND fills.rowid > ? ORDER BY fills.rowid LIMIT ?",
            (session_id, after, page),
        ):
            for row in rows:
                yield _fill_from_row(row[1:])
            after = rows[-1][0]

    def last_account_total(self, account: str, coin: str, before_session: int) -> Decimal | None:
        """The newest total PnL an earlier session of ``account`` published for ``coin``
        (realized + unrealized − fees + funding); None when none published any."""
        rows = self._read(
            "SELECT realized, unrealized, fees, funding FROM equity"
            " JOIN sessions ON equity.session_id = sessions.id"
            " WHERE sessions.account = ? AND sessions.coin = ? AND sessions.id < ?"
            " ORDER BY equity.ts DESC, equity.rowid DESC LIMIT 1",
            (account, coin, before_session),
        )
        if not rows:
            return None
        realized, unrealized, fees, funding = (Decimal(value) for value in rows[0])
        return realized + unrealized - fees + funding

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

    def record_operator_command(
        self, session_id: int, *, ts_ns: int, command: str, ok: bool, detail: str, uid: int
    ) -> None:
        """A ``makerd ctl`` command, whether it was done, what was done, and who asked."""
        self._write(
            "INSERT INTO operator_commands (session_id, ts, command, ok, detail, uid)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, ts_ns, command, int(ok), detail, uid),
        )

    def operator_commands(self, session_id: int) -> list[tuple[int, str, bool, str]]:
        """``(ts_ns, command, ok, detail)`` rows of the session, oldest first."""
        rows = self._read(
            "SELECT ts, command, ok, detail FROM operator_commands WHERE session_id = ?"
            " ORDER BY rowid",
            (session_id,),
        )
        return [(ts, command, bool(ok), detail) for ts, command, ok, detail in rows]

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


_FILL_COLUMNS = (
    "fills.session_id, trade_id, cloid, venue_order_id, fills.coin, side, price, size, fee,"
    " liquidity, ts_exchange, ts_local, realized_pnl, position_after, late"
)


def _fill_from_row(row: Any) -> JournaledFill:
    (session_id, trade_id, cloid, venue_order_id, coin, side, price, size, fee, liquidity,
     ts_exchange, ts_local, realized_pnl, position_after, late) = row  # fmt: skip
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
        late=bool(late),
    )
    return JournaledFill(
        session_id=session_id,
        fill=fill,
        realized_pnl=Decimal(realized_pnl),
        position_after=Decimal(position_after),
    )
