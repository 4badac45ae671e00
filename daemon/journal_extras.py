"""Journal tables that serve the session report: quote samples and session settings.

They share the journal's one connection and its lock (see :mod:`makerd.journal`); they
live here so the journal module keeps to the trading record itself.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from makerd.actors.quote_sampler import QuoteSample
from makerd.daemon.journal_store import PAGE_ROWS, session_rows_in_pages, write_many


class ReportTables:
    """Reads and writes ``quote_samples`` and ``session_settings``."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self._db = db
        self._lock = lock

    def record_quote_samples(self, session_id: int, samples: Sequence[QuoteSample]) -> None:
        """A batch of our quotes against the touch, in one transaction."""
        rows = [
            (session_id, s.ts_local, *map(_text, (s.bid, s.ask, s.touch_bid, s.touch_ask)))
            for s in samples
        ]
        write_many(
            self._db,
            self._lock,
            "INSERT INTO quote_samples (session_id, ts, bid, ask, touch_bid, touch_ask)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    def quote_samples(self, session_id: int) -> list[QuoteSample]:
        """The session's quote samples in time order."""
        return list(self.quote_samples_in_pages(session_id))

    def quote_samples_in_pages(
        self, session_id: int, *, page: int = PAGE_ROWS
    ) -> Iterator[QuoteSample]:
        """:meth:`quote_samples`, read ``page`` rows at a time (one a second of a session)."""
        rows = session_rows_in_pages(
            self._read,
            table="quote_samples",
            columns="bid, ask, touch_bid, touch_ask",
            session_id=session_id,
            page=page,
        )
        for ts, _rowid, bid, ask, touch_bid, touch_ask in rows:
            yield QuoteSample(
                ts_local=ts,
                bid=_decimal(bid),
                ask=_decimal(ask),
                touch_bid=_decimal(touch_bid),
                touch_ask=_decimal(touch_ask),
            )

    def record_settings(self, session_id: int, settings_json: str) -> None:
        """What the session ran with (JSON), for its reports to state."""
        with self._lock:
            self._db.execute(
                "INSERT INTO session_settings (session_id, settings) VALUES (?, ?)",
                (session_id, settings_json),
            )

    def settings(self, session_id: int) -> str | None:
        """The session's settings JSON; None for a session from before they were kept."""
        rows = self._read(
            "SELECT settings FROM session_settings WHERE session_id = ?", (session_id,)
        )
        return str(rows[0][0]) if rows else None

    def _read(self, sql: str, params: tuple[object, ...]) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()


def _text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    if not value.is_finite():
        raise ValueError(f"refusing to journal a non-finite price: {value}")
    return format(value, "f")


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
