"""What the live venue adapter remembers about orders: the races live here.

The exchange reports one order through two channels (the ``/exchange`` answer and the
``orderUpdates`` stream) in either order, a modify gives the order a new oid (the old
leg shows up as "canceled" under the same cloid), and a fill can arrive before the
answer that says which cloid its oid belongs to. :class:`OrderLegs` answers "is this
news?" for each report so every protocol event is emitted once (the stream's end of a
leg, while a modify of its order is on its way, is kept for the answer that may name
it); :class:`.pending_fills.PendingFills` holds fills for oids not known yet instead of
dropping them.

When a modify's answer and its stream reports are all lost, only a listing
(``frontendOpenOrders``, which carries cloids) shows the order's new leg:
:meth:`OrderLegs.listed` takes it then, so its fills find their order at once and its
end is the order's. A listing is taken some time after it was asked, so one asked
before the venue last named the order's leg is older news and moves nothing.
How many orders a report cannot yet vouch for is :mod:`.unsettled`'s.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from makerd.protocol.orders import CancelReason, OrderRequest
from makerd.venues.hyperliquid.lifetimes import ActionLifetime, LifetimeClock

if TYPE_CHECKING:
    from makerd.protocol.orders import OpenOrder, OpenOrdersReported
    from makerd.venues.hyperliquid.parse import OrderStatusReported

_FORGET_AFTER: Final = 10_000
"""Finished orders remembered (to recognise late duplicates) before the oldest go."""


@dataclass(slots=True)
class _Leg:
    oid: int
    heard_ns: int
    """When the venue last named the order's leg (an answer, the stream's report of its
    rest, a listing): a listing asked before then may show a leg the order has left."""
    modify_from: int | None = None
    ended_while_replaced: bool = False
    """The stream said this leg ended while a modify was replacing it: if the modify is
    refused, no leg of the order rests."""
    modifies_on_way: int = 0
    """Modifies of the order sent and not answered yet (or lost): one may name a leg the
    stream has ended."""
    ended_unanswered: dict[int, OrderStatusReported] = field(default_factory=dict)
    """The stream's reports ending legs of the order while modifies were on their way, by
    oid: an answer may yet name one. Cleared when a modify leaves with none on its way
    (no answer to come can name them then), gone with the order."""
    lapsed: int = 0
    """Lost modifies given up on since a leg of the order was last named: the venue may
    have run any of them, making a leg only a listing shows."""
    listed_only: int | None = None
    """The leg, when only a listing has shown it: the first answer or stream report that
    names it is still news, as it was before listings took legs."""
    listed_first: bool = False
    """That leg is the order's first (a placement's): its news is ``OrderAccepted``, not
    ``OrderModified``."""


class OrderLegs:
    """cloid → current oid, modifies in flight, cancel reasons, finished cloids.

    ``monotonic_ns``: the clock the lifetimes given to :meth:`placement_in_doubt` and
    :meth:`modify_finished` were started on; a lost action's lifetime must have passed on
    it too before its records go (:class:`LifetimeClock`)."""

    def __init__(self, monotonic_ns: Callable[[], int] | None = None) -> None:
        self._lifetimes = LifetimeClock(monotonic_ns)
        self._legs: dict[str, _Leg] = {}
        # Kept after an order ends (bounded): its fills may still be on their way.
        self._cloid_by_oid: OrderedDict[int, str] = OrderedDict()
        self._cancel_reasons: dict[str, CancelReason] = {}
        self._requests: dict[str, OrderRequest] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._in_doubt: dict[str, ActionLifetime] = {}
        """Placements no answer spoke for: cloid → their action's lifetime."""
        self._modifies_in_doubt: list[tuple[str, int, ActionLifetime]] = []
        """Modifies no answer spoke for: (cloid, the oid replaced, their action's lifetime)."""

    def placing(self, request: OrderRequest) -> None:
        """Remember what was asked, so a later modify can resend side, tif and flags."""
        self._requests[request.cloid] = request

    def placement_in_doubt(self, cloids: Iterable[str], *, until: ActionLifetime) -> None:
        """No answer said what became of these placements: their requests stay (a report
        may yet open them) until :meth:`forget_lapsed` finds their action lived out."""
        for cloid in cloids:
            self._in_doubt[cloid] = until

    def forget_lapsed(self, now_ns: int) -> None:
        """Forget the requests of placements in doubt whose action has lived out (expired,
        the skew allowed passed, on the monotonic clock too) with no report of them: the
        venue refuses it now. One that
        rested before (its report lost with a stream) is learned from a listing. Kept,
        each lost answer left a request for the rest of the run.

        A modify in doubt is answered then, as if refused: with no other on its way,
        its order is over if the stream ended the leg it replaced and no new leg came
        (:meth:`modify_refused`; a listing tells the order_manager)."""
        lived_out = self._lifetimes.lived_out
        lapsed = [c for c, lifetime in self._in_doubt.items() if lived_out(lifetime, now_ns)]
        for cloid in lapsed:
            del self._in_doubt[cloid]
            if cloid not in self._legs:
                self._requests.pop(cloid, None)
                self._cancel_reasons.pop(cloid, None)
        modifies, self._modifies_in_doubt = self._modifies_in_doubt, []
        for cloid, replaced, lifetime in modifies:
            if not lived_out(lifetime, now_ns):
                self._modifies_in_doubt.append((cloid, replaced, lifetime))
                continue
            self._modify_done(cloid, replaced)
            leg = self._legs.get(cloid)
            if leg is not None:
                leg.lapsed += 1
                if leg.modifies_on_way == 0:
                    self.modify_refused(cloid)

    def amended(self, request: OrderRequest) -> None:
        """A modify of a live order took effect: resend ``request``'s fields from now on.
        An order that finished meanwhile is not remembered again (kept for the run)."""
        if request.cloid in self._legs:
            self._requests[request.cloid] = request

    def request_of(self, cloid: str) -> OrderRequest | None:
        return self._requests.get(cloid)

    def of_this_run(self, cloid: str) -> bool:
        """Whether this run placed ``cloid`` (its order may have ended since)."""
        return cloid in self._requests or cloid in self._finished

    def cloid_of(self, oid: int) -> str | None:
        return self._cloid_by_oid.get(oid)

    def oid_of(self, cloid: str) -> int | None:
        leg = self._legs.get(cloid)
        return None if leg is None else leg.oid

    def opened(self, cloid: str, oid: int, *, heard_ns: int) -> bool:
        """A leg rests (or filled on arrival) under ``oid``, as we heard at ``heard_ns``;
        True when this is news (first report of that leg). ``oid`` is tied to ``cloid``
        even when the order has finished already: an IOC's "filled" on the stream may
        overtake the action's answer, and its fills (the exchange's carry no cloid) are
        known by that oid alone."""
        self._tie(cloid, oid)
        if cloid in self._finished:
            return False
        leg = self._legs.get(cloid)
        if leg is None:
            self._legs[cloid] = _Leg(oid=oid, heard_ns=heard_ns)
            return True
        leg.heard_ns = max(leg.heard_ns, heard_ns)
        if leg.oid == oid:
            news = leg.listed_only == oid
            leg.listed_only, leg.listed_first = None, False
            return news
        _move_to(leg, oid, replaced_next=False)
        return True

    def _tie(self, cloid: str, oid: int) -> None:
        self._cloid_by_oid[oid] = cloid
        if len(self._cloid_by_oid) > 2 * _FORGET_AFTER:
            self._cloid_by_oid.popitem(last=False)

    def listed(self, report: OpenOrdersReported) -> bool:
        """Take the legs ``report`` lists for our orders that nothing else named; True
        when it took one (fills held for it may go).

        The race: a modify's answer was lost and the stream's reports of its old leg's
        end and its new leg's rest were lost too, so only a listing shows the new leg.
        Kept on the old oid, the order's new leg filled as nobody's (its fills held for
        the whole hold, then handed on without a cloid) and its end was taken for a
        replaced leg's, told to nobody. No event comes of the listing (the order manager
        reads it too); the first answer or stream report that names the leg, if one
        still comes, says ``OrderModified`` as before. See :meth:`_listed_leg` for which
        legs it takes, a placement's whose answer and report were lost among them."""
        took = False
        for order in report.orders:
            if self._listed_leg(order, report):
                took = True
        return took

    def _listed_leg(self, listed: OpenOrder, report: OpenOrdersReported) -> bool:
        """Take ``listed`` as its order's leg unless the adapter knows better: the order's
        own leg or one it had before, a leg the stream ended, any leg of a listing asked
        before the venue last named the order's leg (older news), a finished order, one
        listed on another coin or side than we asked (not the order we placed).
        A placement's first leg is taken too (else a modify of it was refused as "not
        resting", and the order manager forgot an order the venue held); its answer or
        report, if one still comes, accepts it once. The modify that made a new leg is
        done; when another may still be on its way, the leg is one that modify may be
        replacing (see :meth:`modify_started`), so its end waits for that modify's answer
        or lifetime."""
        cloid, oid = listed.cloid, listed.venue_order_id
        if cloid is None or cloid in self._finished:
            return False
        request = self.request_of(cloid)
        if request is None or (request.coin, request.side) != (listed.coin, listed.side):
            return False
        leg = self._legs.get(cloid)
        if leg is None:
            self._tie(cloid, oid)
            first = _Leg(oid=oid, heard_ns=report.ts_local, listed_only=oid, listed_first=True)
            self._legs[cloid] = first
            return True
        if self._cloid_by_oid.get(oid) == cloid or oid in leg.ended_unanswered:
            return False
        if report.ts_exchange <= leg.heard_ns:
            return False
        self._tie(cloid, oid)
        # One modify on its way and none given up on since the last leg was named: that
        # one made this leg, and no other can replace it. With more, one still may.
        alone = leg.modifies_on_way + leg.lapsed <= 1
        _move_to(leg, oid, replaced_next=leg.modifies_on_way > 0 and not alone)
        leg.heard_ns = report.ts_local
        leg.listed_only = oid
        return True

    def is_new_leg(self, cloid: str, oid: int) -> bool:
        """Whether ``oid`` replaces an earlier leg of ``cloid`` (a modify took effect),
        the one only a listing has shown included."""
        leg = self._legs.get(cloid)
        if leg is None:
            return False
        return leg.oid != oid or (leg.listed_only == oid and not leg.listed_first)

    def modify_started(self, cloid: str) -> int | None:
        """A modify of ``cloid`` leaves; the oid of the leg it replaces (None: no leg)."""
        leg = self._legs.get(cloid)
        if leg is None:
            return None
        leg.modify_from = leg.oid
        if leg.modifies_on_way == 0:
            leg.ended_unanswered.clear()
        leg.modifies_on_way += 1
        return leg.oid

    def modify_finished(
        self, cloid: str, replaced: int | None, *, lost_until: ActionLifetime | None = None
    ) -> None:
        """The modify that replaced the leg ``replaced`` was answered. A later modify
        replacing a later leg is still on its way: its mark stays, or the stream's cancel
        of that leg would end the order.

        With ``lost_until`` (its action's lifetime) no answer spoke for it (lost, or left
        out of the statuses), and the venue may still run it until then: it stays on its
        way, so the stream's cancel of the leg it replaces is its doing, and its new
        leg's report opens that leg (as its answer would have), until
        :meth:`forget_lapsed` finds that lifetime over. Unmarked at once, the cancel
        ended the order (``OrderCancelled``) while its new leg rested, an orphan the next
        listing cancelled with the whole coin's ladder."""
        if lost_until is not None and replaced is not None and cloid in self._legs:
            self._modifies_in_doubt.append((cloid, replaced, lost_until))
        else:
            self._modify_done(cloid, replaced)

    def _modify_done(self, cloid: str, replaced: int | None) -> None:
        leg = self._legs.get(cloid)
        if leg is None or replaced is None:
            return
        leg.modifies_on_way -= 1
        if leg.modify_from == replaced or leg.modifies_on_way <= 0:
            leg.modify_from = None  # none on its way: nothing replaces the leg now

    def old_leg_ended(self, cloid: str, report: OrderStatusReported) -> None:
        """The stream's ``report`` ends a leg :meth:`is_old_leg` calls replaced. When a
        modify in flight is replacing it (not one that already has), remember it for
        :meth:`modify_refused`.

        The leg may also be one no answer has named yet: the new leg of a modify in flight
        (filled on arrival, or by a taker before the answer came), or the leg of an earlier
        modify whose answer is late. While a modify of the order is on its way the report
        is kept for :meth:`ended_before_answer` (with none, no answer can name the leg).
        """
        oid = report.venue_order_id
        leg = self._legs.get(cloid)
        if leg is None:
            return
        self._tie(cloid, oid)  # a leg of the order (the report says so): a listing asked
        # before its end must not bring it back, and a fill of it is the order's
        if leg.modifies_on_way <= 0:
            return
        leg.ended_unanswered[oid] = report
        if leg.oid == oid and leg.modify_from == oid:
            leg.ended_while_replaced = True

    def ended_before_answer(self, cloid: str, oid: int) -> OrderStatusReported | None:
        """The stream's report ending ``oid``, the leg a modify's answer names, if it came
        first (consumed then, and ``oid`` tied to ``cloid`` for its fills); None when the
        leg is news. Such a leg must not open: the venue has ended it."""
        leg = self._legs.get(cloid)
        report = None if leg is None else leg.ended_unanswered.pop(oid, None)
        if report is not None:
            self._cloid_by_oid[oid] = cloid
        return report

    def current_leg_ended(self, cloid: str) -> bool:
        """Whether the stream ended the leg of ``cloid`` last known to rest: with an ended
        leg named by a modify's answer, the order is over (else that answer is stale and a
        later leg rests)."""
        leg = self._legs.get(cloid)
        return leg is not None and (leg.ended_while_replaced or leg.oid in leg.ended_unanswered)

    def modify_refused(self, cloid: str) -> bool:
        """The modify replaced nothing; True when the order is over because its old leg
        ended meanwhile (forgotten then, as :meth:`finished` forgets). Else the leg was
        kept for the rest of the run, one per such modify, with its request."""
        leg = self._legs.get(cloid)
        if leg is None or not leg.ended_while_replaced:
            return False
        return self.finished(cloid)

    def cancel_requested(self, cloid: str, reason: CancelReason) -> None:
        self._cancel_reasons[cloid] = reason

    def cancel_reason(self, cloid: str) -> CancelReason:
        """Why we asked; a cancel nobody asked for (dead-man switch, margin) is RISK."""
        return self._cancel_reasons.get(cloid, CancelReason.RISK)

    def is_old_leg(self, cloid: str, oid: int) -> bool:
        """A report about a leg a modify replaced (or is replacing): not about the order."""
        leg = self._legs.get(cloid)
        if leg is None:
            return False
        return leg.oid != oid or leg.modify_from == oid

    def finished(self, cloid: str) -> bool:
        """The order ended (cancelled, rejected, filled); True when this is news."""
        if cloid in self._finished:
            return False
        self._legs.pop(cloid, None)
        self._requests.pop(cloid, None)
        self._cancel_reasons.pop(cloid, None)
        self._finished[cloid] = None
        if len(self._finished) > _FORGET_AFTER:
            self._finished.popitem(last=False)
        return True

    def is_finished(self, cloid: str) -> bool:
        return cloid in self._finished

    def live_cloids(self) -> list[str]:
        return list(self._legs)


def _move_to(leg: _Leg, oid: int, *, replaced_next: bool) -> None:
    """The order rests on ``oid`` now; ``replaced_next``: a modify on its way may be
    replacing it."""
    leg.oid = oid
    leg.modify_from = oid if replaced_next else None
    leg.ended_while_replaced = False
    leg.lapsed = 0
    leg.listed_only = None
    leg.listed_first = False
