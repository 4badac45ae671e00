"""fill_tracker: books every fill exactly once and owns the position and PnL.

Fills are deduplicated by trade id against the journal (a UNIQUE key), so a replayed
or snapshot fill is never booked twice, even across restarts. After a restart the
session's position is rebuilt from the journal, then checked against the venue's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from actors.ledger import Ledger
from protocol.account import FillBooked, OrderFilled, PositionChanged, PositionReported
from protocol.control import TimerFired
from protocol.market import BookUpdated

log = logging.getLogger("makerd.fill_tracker")


class FillJournal(Protocol):
    def record_fill(
        self,
        session_id: int,
        fill: OrderFilled,
        *,
        realized_pnl: Decimal,
        position_after: Decimal,
    ) -> bool: ...

    def session_fills(self, session_id: int) -> list[OrderFilled]: ...

    def booked_trade_ids(self) -> set[str]: ...

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
    ) -> None: ...


class FillTrackerLogic:
    def __init__(
        self,
        *,
        coin: str,
        journal: FillJournal,
        session_id: int,
        mark_publish_interval_ns: int,
        equity_interval_ns: int,
    ) -> None:
        self._coin = coin
        self._journal = journal
        self._session_id = session_id
        self._mark_interval_ns = mark_publish_interval_ns
        self._equity_interval_ns = equity_interval_ns
        self.ledger = Ledger()
        self._mark = Decimal(0)
        self._last_mark_publish_ns = 0
        self._last_equity_ns = 0
        self.duplicates_ignored = 0
        self._booked: set[str] = set()
        self._handlers: dict[type, Callable[[Any], list[object]]] = {
            OrderFilled: self._on_fill,
            BookUpdated: self._on_book,
            PositionReported: self._on_position_reported,
            TimerFired: self._on_timer,
        }

    def start(self, now_ns: int) -> list[object]:
        """Rebuild this session's position from the journal (the truth after a crash)."""
        self._booked = self._journal.booked_trade_ids()
        self._rebuild_from_journal()
        return [self._position_changed(now_ns)] if self.ledger.position != 0 else []

    def handle(self, message: object) -> list[object]:
        handler = self._handlers.get(type(message))
        return handler(message) if handler is not None else []

    def _on_fill(self, fill: OrderFilled) -> list[object]:
        if fill.coin != self._coin or fill.trade_id in self._booked:
            self.duplicates_ignored += fill.coin == self._coin
            return []
        realized = self.ledger.apply(fill)
        newly_booked = self._journal.record_fill(
            self._session_id, fill, realized_pnl=realized, position_after=self.ledger.position
        )
        self._booked.add(fill.trade_id)
        if not newly_booked:
            # Journaled by an earlier incarnation: the journal is the truth, rebuild from it.
            log.warning("event=duplicate_fill trade_id=%s source=journal", fill.trade_id)
            self._rebuild_from_journal()
            self.duplicates_ignored += 1
            return []
        booked = FillBooked(
            fill=fill,
            position_after=self.ledger.position,
            realized_pnl=realized,
            ts_local=fill.ts_local,
        )
        return [booked, self._position_changed(fill.ts_local)]

    def _rebuild_from_journal(self) -> None:
        self.ledger = Ledger()
        for booked in self._journal.session_fills(self._session_id):
            self._booked.add(booked.trade_id)
            self.ledger.apply(booked)

    def _on_book(self, book: BookUpdated) -> list[object]:
        mid = book.mid
        if mid is None or book.coin != self._coin:
            return []
        self._mark = mid
        if book.ts_local - self._last_mark_publish_ns < self._mark_interval_ns:
            return []
        return [self._position_changed(book.ts_local)]

    def _on_position_reported(self, report: PositionReported) -> list[object]:
        if report.position != self.ledger.position:
            log.warning(
                "event=position_mismatch coin=%s journal=%s venue=%s resolution=venue",
                self._coin,
                self.ledger.position,
                report.position,
            )
            self.ledger.position = report.position
            self.ledger.average_entry = report.average_entry
            return [self._position_changed(report.ts_local)]
        return []

    def _on_timer(self, timer: TimerFired) -> list[object]:
        if timer.ts_local - self._last_equity_ns < self._equity_interval_ns:
            return []
        self._last_equity_ns = timer.ts_local
        self._journal.record_equity(
            self._session_id,
            ts_ns=timer.ts_local,
            position=self.ledger.position,
            realized=self.ledger.realized_pnl,
            unrealized=self.ledger.unrealized_at(self._mark),
            fees=self.ledger.fees_paid,
            mark=self._mark,
        )
        return []

    def _position_changed(self, now_ns: int) -> PositionChanged:
        self._last_mark_publish_ns = now_ns
        return PositionChanged(
            coin=self._coin,
            position=self.ledger.position,
            average_entry=self.ledger.average_entry,
            realized_pnl=self.ledger.realized_pnl,
            unrealized_pnl=self.ledger.unrealized_at(self._mark),
            fees_paid=self.ledger.fees_paid,
            mark=self._mark,
            ts_local=now_ns,
        )
