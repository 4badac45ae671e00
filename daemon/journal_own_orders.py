"""The journal's ``own_orders`` table: each change of our orders while a session recorded.

It shares the journal's one connection and lock (see :mod:`makerd.journal`). A replay of
the session's recording reads it back as the times our orders rested where.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from decimal import Decimal

from makerd.daemon.journal_store import decimal_text, write_many
from makerd.protocol.orders import OrderStateChanged, OrderStatus
from makerd.protocol.side import Side
from makerd.venues.replay.own_orders import OwnOrderChange

_RESTING = frozenset(
    {OrderStatus.OPEN, OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_MODIFY, OrderStatus.UNKNOWN}
)
"""Statuses in which the order stands in the venue's book: acknowledged and not yet gone
(a cancel or modify in flight leaves it where it was until the venue answers; an order
whose fate is unknown is assumed to stand)."""


class OwnOrderTable:
    """Writes and reads ``own_orders``."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self._db = db
        self._lock = lock

    def record_own_orders(self, session_id: int, changes: Sequence[OrderStateChanged]) -> None:
        """A batch of order changes, in one transaction."""
        rows = [
            (
                session_id,
                c.ts_local,
                c.cloid,
                c.side.value,
                c.status.value,
                decimal_text(c.price),
                decimal_text(c.size),
            )
            for c in changes
        ]
        write_many(
            self._db,
            self._lock,
            "INSERT INTO own_orders (session_id, ts, cloid, side, status, price, size)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def statuses(self, session_id: int) -> list[tuple[int, str, OrderStatus, Decimal]]:
        """``(ts_ns, cloid, status, price)`` of the session's rows, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT ts, cloid, status, price FROM own_orders WHERE session_id = ?"
                " ORDER BY rowid",
                (session_id,),
            ).fetchall()
        return [
            (ts, cloid, OrderStatus(status), Decimal(price)) for ts, cloid, status, price in rows
        ]

    def own_order_changes(self, session_id: int) -> list[OwnOrderChange]:
        """The session's rows, in order, as resting (price, size left) or gone."""
        with self._lock:
            rows = self._db.execute(
                "SELECT ts, cloid, side, status, price, size FROM own_orders"
                " WHERE session_id = ? ORDER BY rowid",
                (session_id,),
            ).fetchall()
        return [
            OwnOrderChange(
                ts_local=ts,
                cloid=cloid,
                side=Side(side),
                price=Decimal(price),
                size=Decimal(size),
                resting=OrderStatus(status) in _RESTING,
            )
            for ts, cloid, side, status, price, size in rows
        ]
