"""fill_tracker: books every fill exactly once and owns the position and PnL.

This is where the exactly-once invariant lives. Fills are deduplicated by trade id
against the journal (a UNIQUE key), so a replayed or snapshot fill is never booked twice,
even across restarts. For a venue account that outlives the process (live trading) the
journal keeps the account's fills over all its sessions: at start the ledger is rebuilt
from them and the venue is asked for every fill since the last one booked (so fills made
while makerd was down are booked, marked late); fills older than the journal itself are
history and never booked. Position, average entry, realized PnL and fees come from booked
fills only; the venue's position is a check (:mod:`actors.position_check`), never a
silent overwrite. Funding payments are booked the same way, once per key.

Every state of the ledger it publishes (``PositionChanged``: to the risk guardian, the
quoter and the status line) is journaled as it is published, so the report's PnL and
drawdown are computed from exactly the figures the kill switch judged, and the last
journaled state is never older than the last booked fill.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from makerd.actors.handled_in_part import HandledInPartError
from makerd.actors.ledger import Ledger
from makerd.actors.position_check import PositionCheck, Verdict
from makerd.protocol.account import (
    FillBooked,
    FillsRepaired,
    FundingPaid,
    OrderFilled,
    PositionChanged,
    PositionMismatch,
    PositionReported,
    RepairFills,
)
from makerd.protocol.clock import still_waiting
from makerd.protocol.control import TimerFired
from makerd.protocol.market import BookUpdated

log = logging.getLogger("makerd.fill_tracker")
_REPAIR_SLACK_NS = 60 * 1_000_000_000


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

    def record_host_lead(self, session_id: int, lead_ns: int) -> None: ...

    def account_since_ns(self, account: str) -> int | None: ...

    def account_fills(self, account: str, coin: str) -> list[OrderFilled]: ...

    def has_fill(self, trade_id: str) -> bool:
        """Whether a fill with this trade id is journaled, in any session."""
        ...

    def record_position_adjustment(
        self, *, account: str, coin: str, ts_ns: int, size: Decimal, reason: str
    ) -> None: ...

    def position_adjustments(self, account: str, coin: str) -> list[tuple[int, Decimal]]: ...

    def record_equity(self, session_id: int, published: PositionChanged) -> None: ...

    def last_mark(self, session_id: int, coin: str) -> Decimal:
        """The newest mark ``coin``'s ledger was valued at in the session (0: none yet)."""
        ...

    def record_funding(self, session_id: int, scope: str, payment: FundingPaid) -> bool: ...

    def funding_payments(self, scope: str, coin: str) -> list[FundingPaid]: ...

    def last_account_total(
        self, account: str, coin: str, before_session: int
    ) -> Decimal | None: ...


class FillTrackerLogic:
    def __init__(
        self,
        *,
        coin: str,
        journal: FillJournal,
        session_id: int,
        mark_publish_interval_ns: int,
        equity_interval_ns: int,
        account: str | None = None,
        responsible_since_ns: int = 0,
        lot: Decimal | None = None,
    ) -> None:
        """``account`` names a venue account kept across sessions (None: this session's
        own, as in sim and paper); fills before ``responsible_since_ns`` are history.
        ``lot`` is the coin's size step: a fill off it is booked, and said (see
        :meth:`_say_if_off_grid`)."""
        self._coin = coin
        self._lot = lot
        self.off_grid_booked = 0
        self._journal = journal
        self._session_id = session_id
        self._account = account
        # Funding keys are unique per venue account (live) or per session (sim, paper).
        self._scope = account if account is not None else f"session:{session_id}"
        self._since_ns = responsible_since_ns
        self._history_before_ns = responsible_since_ns
        """Fills and funding stamped (by the exchange) before this are history: the start
        above, a host's time, read on the exchange's clock once an answer says how far
        ahead the host runs (see :meth:`_read_host_lead`)."""
        self._host_lead_read = False
        self._check = PositionCheck()
        self._repaired_through_ns = responsible_since_ns
        self.history_ignored = 0
        self.late_booked = 0
        self.adjustments = 0
        self._mark_interval_ns = mark_publish_interval_ns
        self._equity_interval_ns = equity_interval_ns
        self.ledger = Ledger()
        self._mark = Decimal(0)
        self._carried = Decimal(0)
        self._published_ns = 0
        """The last published state's stamp: never earlier than the one before it."""
        self._publish_heard_ns = 0
        """When the last state was published, by the clock as read: what the publish
        intervals are timed from (the stamp above stands still after a step back)."""
        self.duplicates_ignored = 0
        self._handlers: dict[type, Callable[[Any], list[object]]] = {
            OrderFilled: self._on_fill,
            BookUpdated: self._on_book,
            PositionReported: self._on_position_reported,
            FillsRepaired: self._on_fills_repaired,
            FundingPaid: self._on_funding,
            TimerFired: self._on_timer,
        }

    def start(self, now_ns: int) -> list[object]:
        """Rebuild the position from the journal, then ask for what it may be missing."""
        self._rebuild_from_journal()
        # The rebuilt position is valued at the last price it was valued at (this session's,
        # or the one the carried PnL was taken at), not at none: else the first state says 0
        # unrealized until the next book, and the risk guardian, the metrics and the journal
        # see a loss (or a gain) that never happened.
        self._mark = self._journal.last_mark(self._session_id, self._coin)
        self._repaired_through_ns = max([self._since_ns, *self._fill_times()])
        if self._account is not None:
            # The ledger carries earlier sessions' PnL in: the risk limits judge this
            # session's on top of the equity they persisted, so each is counted once.
            last = self._journal.last_account_total(self._account, self._coin, self._session_id)
            self._carried = self.ledger.total_at(Decimal(0)) if last is None else last
        repair = RepairFills(
            coin=self._coin, since_ns=self._repaired_through_ns, reason="start", ts_local=now_ns
        )
        return [repair, self._publish(now_ns)]

    def handled_types(self) -> frozenset[type]:
        return frozenset(self._handlers)

    def handle(self, message: object) -> list[object]:
        handler = self._handlers.get(type(message))
        return handler(message) if handler is not None else []

    def _on_fill(self, fill: OrderFilled) -> list[object]:
        # The journal, not a set in memory, says what is booked: a set of every trade id
        # grew by one entry per fill for as long as the process ran (weeks under systemd),
        # and started from every fill the state directory ever booked.
        if fill.coin != self._coin or self._journal.has_fill(fill.trade_id):
            self.duplicates_ignored += fill.coin == self._coin
            return []
        if fill.late and fill.ts_exchange < self._history_before_ns:
            # Before this journal kept the account: not ours to book. Only a repair or an
            # opening snapshot brings such a fill; one pushed live was made while we
            # watched, and its stamp (the exchange's clock) may read before our start
            # (a local time) on a host ahead of the exchange.
            self.history_ignored += 1
            return []
        if fill.late:
            self.late_booked += 1
            log.warning(
                "event=fill_booked_late trade_id=%s side=%s size=%s price=%s",
                fill.trade_id,
                fill.side.value,
                fill.size,
                fill.price,
            )
        off_lot_grid = self._say_if_off_grid(fill)
        realized = self.ledger.apply(fill)
        self._check.booked(fill.ts_exchange, fill.size * fill.side.sign)
        newly_booked = self._journal.record_fill(
            self._session_id, fill, realized_pnl=realized, position_after=self.ledger.position
        )
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
            off_lot_grid=off_lot_grid,
        )
        try:
            published = self._publish(fill.ts_local)
        except Exception as error:
            # The fill is on disk: the restarted tracker rebuilds it from the journal and
            # never announces it, so this announcement is its only one.
            raise HandledInPartError(messages=(booked,), error=error) from error
        return [booked, published]

    def _rebuild_from_journal(self) -> None:
        self.ledger = Ledger()
        self._check.forget_booked()
        for booked in self._kept_fills():
            self.ledger.apply(booked)
            self._check.booked(booked.ts_exchange, booked.size * booked.side.sign)
        if self._account is not None:
            for ts_ns, size in self._journal.position_adjustments(self._account, self._coin):
                self.ledger.position += size
                self._check.booked(ts_ns, size)
        for payment in self._journal.funding_payments(self._scope, self._coin):
            self.ledger.apply_funding(payment.amount)

    def _kept_fills(self) -> list[OrderFilled]:
        if self._account is None:
            # The session's fills of every coin: another coin's tracker books the others.
            fills = self._journal.session_fills(self._session_id)
            return [fill for fill in fills if fill.coin == self._coin]
        return self._journal.account_fills(self._account, self._coin)

    def _fill_times(self) -> list[int]:
        return [fill.ts_exchange for fill in self._kept_fills()]

    def _on_book(self, book: BookUpdated) -> list[object]:
        mid = book.mid
        if mid is None or book.coin != self._coin:
            return []
        self._mark = mid
        if still_waiting(book.ts_local, self._publish_heard_ns, self._mark_interval_ns):
            return []
        return [self._publish(book.ts_local)]

    def _on_position_reported(self, report: PositionReported) -> list[object]:
        if report.coin != self._coin:
            return []
        self._read_host_lead(report)
        judgement = self._check.judge(
            ledger_position=self.ledger.position, venue=report.position, at_ns=report.ts_exchange
        )
        if judgement.verdict in (Verdict.AGREES, Verdict.WAIT):
            return []
        mismatch = PositionMismatch(
            coin=self._coin,
            booked=judgement.booked,
            venue=report.position,
            action="repair" if judgement.verdict is Verdict.REPAIR else "adjusted",
            ts_local=report.ts_local,
        )
        log.warning(
            "event=position_mismatch coin=%s booked=%s venue=%s action=%s",
            self._coin,
            judgement.booked,
            report.position,
            mismatch.action,
        )
        if judgement.verdict is Verdict.REPAIR:
            since = self._repaired_through_ns
            return [
                mismatch,
                RepairFills(
                    coin=self._coin,
                    since_ns=since,
                    reason="position_mismatch",
                    ts_local=report.ts_local,
                ),
            ]
        return [mismatch, *self._adjust(report, report.position - judgement.booked)]

    def _adjust(self, report: PositionReported, difference: Decimal) -> list[object]:
        """Book a change no fill explains, so the position agrees with the venue from now on."""
        self.adjustments += 1
        if self._account is not None:
            self._journal.record_position_adjustment(
                account=self._account,
                coin=self._coin,
                ts_ns=report.ts_exchange,
                size=difference,
                reason="venue position after a completed fills repair",
            )
        was_flat = self.ledger.position == 0
        self.ledger.position += difference
        self._check.booked(report.ts_exchange, difference)
        if was_flat or self.ledger.position == 0:
            self.ledger.average_entry = report.average_entry if self.ledger.position else Decimal(0)
        return [self._publish(report.ts_local)]

    def _read_host_lead(self, report: PositionReported) -> None:
        """The first account answer says how far the host's clock runs ahead of the
        exchange's (stamped there, heard here). The start this journal keeps the account
        from is a host's time: a minute fast, a fill made in the run's first minute and
        brought by a repair read as made before the start, and was never booked. Each
        session's lead is journaled, so the start is read on the exchange's clock by the
        runs after it too, whatever their host's clock says."""
        if self._host_lead_read:
            return
        self._host_lead_read = True
        lead_ns = max(0, report.ts_local - report.ts_exchange)
        before = self._since_ns - lead_ns
        if self._account is not None:
            self._journal.record_host_lead(self._session_id, lead_ns)
            since = self._journal.account_since_ns(self._account)
            before = before if since is None else since
        if self._repaired_through_ns == self._history_before_ns:
            self._repaired_through_ns = before  # no fill booked since: repairs ask from it
        self._history_before_ns = before

    def _on_funding(self, payment: FundingPaid) -> list[object]:
        if payment.coin != self._coin:
            return []
        if payment.ts_exchange < self._history_before_ns:
            self.history_ignored += 1  # paid before this journal kept the account
            return []
        if not self._journal.record_funding(self._session_id, self._scope, payment):
            self.duplicates_ignored += 1  # a replay, a repair or a restart: booked already
            return []
        self.ledger.apply_funding(payment.amount)
        log.info(
            "event=funding_booked coin=%s amount=%s rate=%s position=%s key=%s",
            payment.coin,
            payment.amount,
            payment.rate,
            payment.position,
            payment.key,
        )
        return [self._publish(payment.ts_local)]

    def _say_if_off_grid(self, fill: OrderFilled) -> bool:
        """A fill is the venue's account of our position, so it is booked whatever its size:
        dropping it would leave makerd's position wrong against the venue's. A size off the
        lot grid means the coin's rules changed under us or the venue is broken; say so
        (True: it is off the grid)."""
        if self._lot is None or fill.size % self._lot == 0:
            return False
        self.off_grid_booked += 1
        log.warning(
            "event=fill_off_lot_grid trade_id=%s size=%s lot=%s note=%r",
            fill.trade_id,
            fill.size,
            self._lot,
            "booked as the venue reported it; the coin's rules may have changed: restart makerd",
        )
        return True

    def _on_fills_repaired(self, repaired: FillsRepaired) -> list[object]:
        if repaired.coin == self._coin:
            self._check.repaired(repaired.through_ns)
            # Complete up to the repair; a minute of slack covers the two clocks involved.
            floor = repaired.through_ns - _REPAIR_SLACK_NS
            self._repaired_through_ns = max(self._repaired_through_ns, floor)
        return []

    def _on_timer(self, timer: TimerFired) -> list[object]:
        """A quiet market still gets a published (and journaled) state now and then."""
        if still_waiting(timer.ts_local, self._publish_heard_ns, self._equity_interval_ns):
            return []
        return [self._publish(timer.ts_local)]

    def _publish(self, now_ns: int) -> PositionChanged:
        # Monotonic, so the journal's time order is the order the states were published.
        ts = max(now_ns, self._published_ns)
        self._published_ns, self._publish_heard_ns = ts, now_ns
        changed = PositionChanged(
            coin=self._coin,
            position=self.ledger.position,
            average_entry=self.ledger.average_entry,
            realized_pnl=self.ledger.realized_pnl,
            unrealized_pnl=self.ledger.unrealized_at(self._mark),
            fees_paid=self.ledger.fees_paid,
            funding=self.ledger.funding,
            carried_pnl=self._carried,
            mark=self._mark,
            ts_local=ts,
        )
        self._journal.record_equity(self._session_id, changed)
        return changed
