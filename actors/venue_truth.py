"""Whether the order manager knows what rests at the venue, and when to ask again.

The order manager may add risk only while the venue's truth is *clean*: a venue report
arrived that lists no order we do not own, and none of our orders is in doubt. It starts
dirty (a previous run or incarnation may have left orders), and becomes dirty again on
anything that could hide an order from us: orphans in a report, an answer that never came,
an acknowledgement for an order we no longer track. While dirty it asks for a snapshot
with growing backoff until one comes back clean; while clean it still asks now and then,
so an order that slipped past every event is found within about ``audit_interval_ns``
(on a grid of the clock shared by every coin, so that their audits share a listing).
An order the user stream reports open on our coin that is none of ours (a trader's on
the same account) brings that audit forward to now: found by the minute's audit alone,
it rested up to a minute and a half before the orphan rule cancelled it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from makerd.actors.order_state import OrderTable
from makerd.protocol.clock import stepped_back, still_waiting
from makerd.protocol.orders import CancelAll, CancelReason, OpenOrdersReported, OrderStatus
from makerd.protocol.stranger_orders import StrangerOrderReported

log = logging.getLogger("makerd.order_manager")

NS_PER_S: Final = 1_000_000_000
ORPHAN_CANCEL_HOLD_NS: Final = NS_PER_S // 2
"""How long after an orphan cancel-all a listing may still show what it is cancelling:
it waits its turn on the venue's thread and crosses the network (milliseconds, more
under load). A listing asked later that shows orphans is one the cancel did not reach."""
STRANGER_AUDIT_SPACING_NS: Final = 5 * NS_PER_S
"""Least time between two audits brought forward by strangers: one listing (20 weight)
lists them all, and a stream that reports many (or a hostile one) must not spend the
request budget the quotes need. Strangers reported meanwhile wait for the next."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TruthTiming:
    first_retry_ns: int = NS_PER_S
    max_retry_ns: int = 8 * NS_PER_S
    audit_interval_ns: int = 60 * NS_PER_S


class VenueTruth:
    def __init__(self, timing: TruthTiming | None = None) -> None:
        self._timing = timing or TruthTiming()
        self._clean = False
        self._why_dirty = "start"
        self._asked_ns: int | None = None
        self._awaiting_answer = False
        self._retry_ns = self._timing.first_retry_ns
        self._last_clean_ns: int | None = None
        self._orphans_cancelled_ns: int | None = None
        """When this order manager last sent a cancel-all for orphans."""
        self._stranger_heard_ns: int | None = None
        """When a stranger was reported that no question asked since has looked for."""
        self._stranger_audit_ns: int | None = None
        """When the last audit brought forward by a stranger was asked."""
        self.dirty_reports = 0
        self.orphan_cancels_spared = 0

    @property
    def clean(self) -> bool:
        return self._clean

    @property
    def why_dirty(self) -> str:
        return "" if self._clean else self._why_dirty

    def doubt(self, why: str) -> None:
        """Something may rest at the venue that we do not know of: re-check before new risk."""
        if self._clean:
            self._retry_ns = self._timing.first_retry_ns
            self._asked_ns = None
        self._clean = False
        self._why_dirty = why
        self._awaiting_answer = False

    def asked(self, now_ns: int) -> bool:
        """Whether this asks again: the last question is neither answered nor doubted since."""
        again, self._awaiting_answer = self._awaiting_answer, True
        self._asked_ns = now_ns
        if self._stranger_heard_ns is not None and not again:
            # A question asked now lists what the stream reported before it.
            self._stranger_heard_ns = None
            self._stranger_audit_ns = now_ns
        return again

    def stranger_reported(self, heard_ns: int) -> None:
        """The stream reported an order on our coin that is none of ours: look now (an
        audit brought forward, at most one per ``STRANGER_AUDIT_SPACING_NS``). A dirty
        truth asks anyway; either way the listing's orphan rule cancels it."""
        if self._stranger_heard_ns is None:
            self._stranger_heard_ns = heard_ns

    def reported(self, *, orphans: bool, in_doubt: bool, now_ns: int) -> None:
        """A venue report was applied; it is clean when it leaves nothing unexplained."""
        self._awaiting_answer = False
        if orphans or in_doubt:
            self.dirty_reports += 1
            self._clean = False
            self._why_dirty = "orphans" if orphans else "orders_in_doubt"
            return
        self._clean = True
        self._why_dirty = ""
        self._last_clean_ns = now_ns
        self._retry_ns = self._timing.first_retry_ns

    def cancel_orphans(self, report: OpenOrdersReported) -> bool:
        """Whether the orphans ``report`` lists call for a cancel-all now.

        Not when the report was asked before the last one could have done its work
        (``ORPHAN_CANCEL_HOLD_NS`` after it was decided): its orphans
        may be the ones being cancelled. After a restart, each coin's own check, the user
        stream's reconnect repair and the fill tracker's start repair all list what rests
        within milliseconds, and each sent its own cancel-all: 3-9 where one per coin
        does, enough to spend the request budget and hold the first quotes 8 s. The truth
        stays dirty, so a report asked after the hold comes, and cancels again if orphans
        remain (a cancel refused or lost).
        """
        last = self._orphans_cancelled_ns
        if last is not None and report.ts_exchange < last + ORPHAN_CANCEL_HOLD_NS:
            self.orphan_cancels_spared += 1
            return False
        self._orphans_cancelled_ns = report.ts_local
        return True

    def due(self, now_ns: int) -> bool:
        """Whether to ask the venue for a snapshot now (and back off the next ask if so)."""
        if self._clean:
            last = self._last_clean_ns if self._last_clean_ns is not None else now_ns
            recently_asked = self._asked_ns is not None and still_waiting(
                now_ns, self._asked_ns, self._timing.max_retry_ns
            )
            audit = now_ns >= self._next_audit_ns(last) or stepped_back(now_ns, last)
            return (audit and not recently_asked) or self._stranger_audit_due(now_ns)
        if self._asked_ns is not None and still_waiting(now_ns, self._asked_ns, self._retry_ns):
            return False
        if self._asked_ns is not None:
            self._retry_ns = min(self._retry_ns * 2, self._timing.max_retry_ns)
        return True

    def _stranger_audit_due(self, now_ns: int) -> bool:
        if self._stranger_heard_ns is None or self._awaiting_answer:
            return False
        last = self._stranger_audit_ns
        return last is None or not still_waiting(now_ns, last, STRANGER_AUDIT_SPACING_NS)

    def _next_audit_ns(self, last_clean_ns: int) -> int:
        """The first instant of the audit grid (the clock's multiples of the interval) at
        least half an interval after the last clean report. Every coin's order manager
        audits at the same instants, so one listing per perp dex answers them all: counted
        from each coin's own last report, three coins' audits fell apart and each paid its
        own listing (66 weight a minute where 44 do). Audits stay an interval apart on
        average, half to one and a half after an off-grid report."""
        interval = self._timing.audit_interval_ns
        return -(-(last_clean_ns + interval // 2) // interval) * interval


def apply_report(
    truth: VenueTruth, table: OrderTable, report: OpenOrdersReported, *, cancel_orphans: bool
) -> list[object]:
    """Settle the table with a venue report; orphans in it keep the truth dirty and, with
    ``cancel_orphans``, are cancelled: every order the venue lists for the coin but those
    the table tracks. A stopped order_manager leaves them to the stop's sweep of the venue.

    The venue lists again to cancel, so an orphan that came to rest since this report goes
    too. Our own orders are spared: cancelling the coin's whole ladder for a stranger (a
    trader's order by hand on the same account) took every order's place in the queue
    and left the coin unquoted until a listing came back clean (about a second)."""
    orphans, changes = table.reconcile(report)
    out: list[object] = list(changes)
    in_doubt = any(order.status is OrderStatus.UNKNOWN for order in table.all())
    truth.reported(orphans=orphans, in_doubt=in_doubt, now_ns=report.ts_local)
    if not orphans:
        return out
    if not cancel_orphans:
        action = "left_to_stop_sweep"
    elif truth.cancel_orphans(report):
        action = "cancel_all"
        out.append(
            CancelAll(
                coin=report.coin,
                reason=CancelReason.ORPHAN,
                ts_local=report.ts_local,
                sparing=table.cloids(),
            )
        )
    else:
        action = "cancel_all_already_sent"
    log.warning("event=orphans_found count=%d action=%s", len(table.strangers(report)), action)
    return out


def note_stranger(
    truth: VenueTruth, table: OrderTable, report: StrangerOrderReported
) -> list[object]:
    """A stranger the stream reported open is looked for by the next question, brought
    forward to now, unless one of ours rests under that oid (a leg a listing gave it)."""
    if report.status is OrderStatus.OPEN and not table.owns_venue_id(report.venue_order_id):
        truth.stranger_reported(report.ts_local)
    return []
