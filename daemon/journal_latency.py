"""The journal's ``ack_latencies`` table: each order action's measured acknowledgement latency.

It shares the journal's one connection and lock (see :mod:`makerd.journal`). A backtest
reads a session's rows back as the distribution it draws its order latencies from.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from makerd.daemon.journal_store import write_many
from makerd.protocol.order_actions import ActionKind
from makerd.venues.paper.latency import NS_PER_MS, percentile


@dataclass(frozen=True, slots=True, kw_only=True)
class AckLatency:
    """One action, from when makerd sent it to when the venue's answer reached makerd."""

    ts_ns: int
    """When the answer arrived (local clock)."""
    coin: str
    kind: ActionKind
    latency_ns: int


def distribution_text(latencies_ns: Sequence[int]) -> str:
    """``n=412, p50 1.9 ms, p90 3.1 ms`` (nearest-rank percentiles; not empty)."""
    ordered = sorted(latencies_ns)
    p50, p90 = (percentile(ordered, p) / NS_PER_MS for p in (50, 90))
    return f"n={len(ordered)}, p50 {p50:.1f} ms, p90 {p90:.1f} ms"


class AckLatencyTable:
    """Writes and reads ``ack_latencies``."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self._db = db
        self._lock = lock

    def record_ack_latencies(self, session_id: int, latencies: Sequence[AckLatency]) -> None:
        """A batch of measured latencies, in one transaction."""
        rows = [(session_id, a.ts_ns, a.coin, a.kind.value, a.latency_ns) for a in latencies]
        write_many(
            self._db,
            self._lock,
            "INSERT INTO ack_latencies (session_id, ts, coin, kind, latency_ns)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )

    def measured_sessions(self) -> list[int]:
        """Every session with at least one row, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT session_id FROM ack_latencies ORDER BY session_id"
            ).fetchall()
        return [int(session_id) for (session_id,) in rows]

    def ack_latencies(self, session_id: int) -> list[AckLatency]:
        """The session's latencies in the order they were measured."""
        with self._lock:
            rows = self._db.execute(
                "SELECT ts, coin, kind, latency_ns FROM ack_latencies WHERE session_id = ?"
                " ORDER BY rowid",
                (session_id,),
            ).fetchall()
        return [
            AckLatency(ts_ns=ts, coin=coin, kind=ActionKind(kind), latency_ns=latency_ns)
            for ts, coin, kind, latency_ns in rows
        ]
