"""The order_manager's table of orders and the transitions the venue can cause.

Every status change is queued as an :class:`OrderStateChanged` and drained by the
caller, so observers see each transition exactly once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from decimal import Decimal

from makerd.actors.managed_order import ListedSize, ManagedOrder
from makerd.protocol.account import OrderFilled
from makerd.protocol.clock import still_waiting
from makerd.protocol.orders import (
    OpenOrder,
    OpenOrdersReported,
    OrderAccepted,
    OrderAmendment,
    OrderCancelled,
    OrderModified,
    OrderRejected,
    OrderRequest,
    OrderStateChanged,
    OrderStatus,
)
from makerd.protocol.side import Side

WORKING = (OrderStatus.OPEN, OrderStatus.PENDING_NEW, OrderStatus.PENDING_MODIFY)
"""Statuses of orders that rest or soon will. Tuples, not sets, of statuses: membership by
identity, where a set calls ``Enum.__hash__`` (Python code) for every order of every target."""
_LISTING_SETTLES = (OrderStatus.OPEN, OrderStatus.PENDING_MODIFY, OrderStatus.UNKNOWN)
"""Statuses a listing settles; a placement or a cancel on its way is left to its answer."""
_PENDING = (OrderStatus.PENDING_NEW, OrderStatus.PENDING_MODIFY, OrderStatus.PENDING_CANCEL)


MAX_LEGS_KEPT = 16
"""Venue ids remembered per live order; older legs' fills arrive long before this many
modifies have been answered."""
UNCLAIMED_FILLS_KEPT = 64
"""Fills of venue ids no order has had, kept for a listing that names their leg. The
adapter hands such a fill on within 2 s of hearing it; a listing comes within seconds."""
FINISHED_KEPT = 256
"""Finished orders remembered, with when we learned it: a listing asked before then may
still show them. Far more than finish while one listing waits for request budget."""


class OrderTable:
    def __init__(self, *, coin: str) -> None:
        self._coin = coin
        self._orders: dict[str, ManagedOrder] = {}
        self._by_venue_id: dict[int, str] = {}
        """Every venue id each live order has had (a modify may give it a new one), so a
        fill of an earlier leg that names no cloid still finds its order."""
        self._legs_of: dict[str, list[int]] = {}
        self._finished_at: dict[str, int] = {}
        self._unclaimed: deque[OrderFilled] = deque(maxlen=UNCLAIMED_FILLS_KEPT)
        """Fills of a leg no order had yet: a modify's new leg whose answer and reports
        were lost fills before a listing names it, and its fills count once it does."""
        self._changes: list[object] = []

    @property
    def tracked_venue_ids(self) -> int:
        """Venue ids held for fill lookups: at most ``MAX_LEGS_KEPT`` per live order."""
        return len(self._by_venue_id)

    def cloids(self) -> tuple[str, ...]:
        """Every order tracked, whatever its status."""
        return tuple(self._orders)

    def owns_venue_id(self, venue_order_id: int) -> bool:
        """Whether a tracked order rests (or rested) under ``venue_order_id``."""
        return venue_order_id in self._by_venue_id

    def all(self) -> list[ManagedOrder]:
        return list(self._orders.values())

    def get(self, cloid: str) -> ManagedOrder | None:
        return self._orders.get(cloid)

    def working(self, side: Side | None) -> list[ManagedOrder]:
        """Orders that rest or soon will (not being cancelled, not in doubt)."""
        return [
            order
            for order in self._orders.values()
            if order.status in WORKING and (side is None or order.side is side)
        ]

    def drain_changes(self) -> list[object]:
        changes, self._changes = self._changes, []
        return changes

    def add_pending(self, requests: Iterable[OrderRequest], now_ns: int) -> None:
        for request in requests:
            order = ManagedOrder(
                cloid=request.cloid,
                side=request.side,
                price=request.price,
                size=request.size,
                filled=Decimal(0),
                status=OrderStatus.PENDING_NEW,
                venue_order_id=None,
                created_ns=now_ns,
                updated_ns=now_ns,
                priced_ns=now_ns,
                leg_ns=now_ns,
                trigger=request.trigger,
            )
            self._orders[request.cloid] = order
            self._record(order, now_ns)

    def mark_pending_cancel(self, cloids: Iterable[str], now_ns: int) -> None:
        for cloid in cloids:
            self._move(cloid, OrderStatus.PENDING_CANCEL, now_ns)

    def mark_pending_modify(self, amendments: Iterable[OrderAmendment], now_ns: int) -> None:
        for amendment in amendments:
            order = self._orders.get(amendment.cloid)
            if order is not None:
                order.amend_to = amendment
                self._move(amendment.cloid, OrderStatus.PENDING_MODIFY, now_ns)

    def mark_unknown(self, cloid: str, now_ns: int) -> list[object]:
        self._move(cloid, OrderStatus.UNKNOWN, now_ns)
        return self.drain_changes()

    def revert_modify(self, cloid: str, now_ns: int) -> list[object]:
        order = self._orders.get(cloid)
        if order is not None and order.status is OrderStatus.PENDING_MODIFY:
            order.amend_to = None
            self._move(cloid, OrderStatus.OPEN, now_ns)
        return self.drain_changes()

    def forget(self, cloid: str, status: OrderStatus, now_ns: int) -> list[object]:
        self._move(cloid, status, now_ns)
        if self._orders.get(cloid) is not None:
            self._finished_at[cloid] = now_ns
            if len(self._finished_at) > FINISHED_KEPT:
                del self._finished_at[next(iter(self._finished_at))]
        self._remove(cloid)
        return self.drain_changes()

    def strangers(self, report: OpenOrdersReported) -> list[OpenOrder]:
        """The listed orders we do not know: none of ours, or ours but finished before the
        listing came. One that filled (or was cancelled) after it is no stranger: the
        listing predates what we learned. Taken for an orphan, it cancelled the coin's
        whole ladder and held new quotes until another listing came back clean."""
        return [
            order
            for order in report.orders
            if order.cloid is None
            or (
                order.cloid not in self._orders
                and self._finished_at.get(order.cloid, report.ts_local) <= report.ts_local
            )
        ]

    def on_venue_event(
        self, event: OrderAccepted | OrderModified | OrderCancelled | OrderRejected
    ) -> list[object]:
        order = self._orders.get(event.cloid)
        if order is None:
            return []
        if isinstance(event, OrderAccepted):
            self._set_venue_id(order, event.venue_order_id, event.ts_local)
            if order.status is OrderStatus.PENDING_NEW:
                self._move(order.cloid, OrderStatus.OPEN, event.ts_local)
        elif isinstance(event, OrderModified):
            return self._on_modified(order, event)
        elif isinstance(event, OrderCancelled):
            return self.forget(order.cloid, OrderStatus.CANCELLED, event.ts_local)
        else:
            return self.forget(order.cloid, OrderStatus.REJECTED, event.ts_local)
        return self.drain_changes()

    def _on_modified(self, order: ManagedOrder, event: OrderModified) -> list[object]:
        """A modify took effect on a new leg (venue id), born at the modify's size.

        Its answer may come after the leg was named (its fill, a listing): the order then
        moved to that leg already, and the answer only says what the leg was born at; the
        order's status and a later modify on its way stand. An answer naming a leg the
        order has since left is old news, and never takes the order back to it."""
        leg = event.venue_order_id
        if leg not in self._legs_of.get(order.cloid, ()):
            remaining = order.born_remaining(leg, event.size)
            self._modified(order, leg, event.price, remaining, event.ts_local)
            self._move(order.cloid, OrderStatus.OPEN, event.ts_local)
        elif leg == order.venue_order_id:
            was = order.remaining
            order.size = order.filled + order.born_remaining(leg, event.size)
            order.listed_size = None
            if order.remaining != was:
                self._record(order, event.ts_local)
        if order.remaining <= 0:
            return self.forget(order.cloid, OrderStatus.FILLED, event.ts_local)
        return self.drain_changes()

    def on_fill(self, fill: OrderFilled) -> list[object]:
        cloid = fill.cloid or self._by_venue_id.get(fill.venue_order_id)
        order = self._orders.get(cloid) if cloid else None
        if order is None:
            self._keep_unclaimed(fill)
            return []
        took_effect = self._modify_filled(order, fill)
        self._count_fill(order, fill)
        if order.remaining <= 0:
            return self.forget(order.cloid, OrderStatus.FILLED, fill.ts_local)
        if took_effect:
            self._move(order.cloid, OrderStatus.OPEN, fill.ts_local)
        self._record(order, fill.ts_local)
        return self.drain_changes()

    def _keep_unclaimed(self, fill: OrderFilled) -> None:
        """Keep a fill of a leg no order has had, once (a repair may bring it again)."""
        known = fill.venue_order_id in self._by_venue_id
        if not known and all(kept.trade_id != fill.trade_id for kept in self._unclaimed):
            self._unclaimed.append(fill)

    def _modify_filled(self, order: ManagedOrder, fill: OrderFilled) -> bool:
        """Whether ``fill`` is of the new leg of the modify on its way (a venue id the
        order never had): the modify took effect, at its price and size. The venue may
        end that leg (filled on arrival, or by a taker) before any word that it rests,
        and then no ``OrderModified`` comes: a modify that cut the size kept the old one,
        PENDING_MODIFY with the rest unfilled, until it expired and a listing dropped it
        as cancelled."""
        amend = order.amend_to
        if amend is None or order.status is not OrderStatus.PENDING_MODIFY:
            return False
        if fill.venue_order_id in self._legs_of.get(order.cloid, ()):
            return False  # a fill of the leg being replaced
        leg = fill.venue_order_id
        remaining = order.born_remaining(leg, amend.size)
        self._modified(order, leg, amend.price, remaining, fill.ts_local)
        return True

    def _modified(
        self, order: ManagedOrder, venue_order_id: int, price: Decimal, remaining: Decimal, ts: int
    ) -> None:
        """The order's new leg ``venue_order_id`` rests (or rested) for ``remaining``."""
        self._set_venue_id(order, venue_order_id, ts)
        if price != order.price:
            order.priced_ns = ts
        order.price, order.size = price, order.filled + remaining
        order.amend_to = order.listed_size = None

    def expire_pending(self, now_ns: int, timeout_ns: int) -> list[object]:
        """Pending orders unanswered for ``timeout_ns`` become UNKNOWN (the venue is asked)."""
        for order in list(self._orders.values()):
            if order.status in _PENDING and not still_waiting(now_ns, order.updated_ns, timeout_ns):
                self._move(order.cloid, OrderStatus.UNKNOWN, now_ns)
        return self.drain_changes()

    def reconcile(self, report: OpenOrdersReported) -> tuple[bool, list[object]]:
        """Apply the venue's truth; return whether it holds orders we do not know."""
        at_venue = {order.cloid for order in report.orders if order.cloid is not None}
        orphans = bool(self.strangers(report))
        # An order in doubt is absent only if nothing that could still place it is on its
        # way: an action whose answer was lost may execute until it expires.
        provable = {OrderStatus.OPEN}
        if report.unsettled_orders == 0:
            provable.add(OrderStatus.UNKNOWN)
        for order in list(self._orders.values()):
            absent = order.cloid not in at_venue and order.updated_ns <= report.ts_local
            if order.status in provable and absent:
                self.forget(order.cloid, OrderStatus.CANCELLED, report.ts_local)
        for venue_order in report.orders:
            known = self._orders.get(venue_order.cloid) if venue_order.cloid else None
            if known is not None:
                self._follow_listing(known, venue_order, report)
        return orphans, self.drain_changes()

    def _follow_listing(
        self, order: ManagedOrder, listed: OpenOrder, report: OpenOrdersReported
    ) -> None:
        """Take what a listing proves of one of our orders (docs/invariants.md, section 3).

        A listing shows the leg the venue held at some instant after the report was asked
        (``report.ts_exchange``). The order's current leg (or a placement's first) listed:
        it rests, and an order in doubt is open again; its size is left to the fills, as
        one the venue made before the listing but heard after it would be counted twice
        and the order forgotten as filled while it rests. A leg the order had before, or
        any leg listed by a report asked before the venue last named the order's leg
        (``leg_ns``), is older news: a newer confirmed modify is never undone. Any other
        leg is a modify's whose answer and stream reports were lost: see
        :meth:`_take_listed_leg`.
        """
        if order.status not in _LISTING_SETTLES or listed.side is not order.side:
            return
        leg = listed.venue_order_id
        was = (order.price, order.remaining)
        if order.venue_order_id is None:
            self._set_venue_id(order, leg, report.ts_local)
            self._claim_fills(order)
        elif leg == order.venue_order_id:
            pass
        elif leg in self._legs_of.get(order.cloid, ()) or order.leg_ns >= report.ts_exchange:
            return
        else:
            self._take_listed_leg(order, listed, report)
        if order.remaining <= 0:
            self.forget(order.cloid, OrderStatus.FILLED, report.ts_local)
            return
        status = order.status
        if order.amend_to is None or status is OrderStatus.UNKNOWN:
            status = OrderStatus.OPEN
        if status is not order.status:
            self._move(order.cloid, status, report.ts_local)
        elif (order.price, order.remaining) != was:
            self._record(order, report.ts_local)

    def _take_listed_leg(
        self, order: ManagedOrder, listed: OpenOrder, report: OpenOrdersReported
    ) -> None:
        """The order rests on ``listed``, a leg we never heard of, as an ``OrderModified``
        would have said: at the listed price (the price clock restarts if it differs:
        the queue place is lost). The leg of the modify on its way was born at that
        modify's size, and the fills of it we hear (some may still be on their way)
        settle the rest. A leg we cannot place takes the listed size, which already
        left out the fills made before the listing, heard before it or after
        (:class:`ListedSize`)."""
        amend = order.amend_to
        ours = amend is not None and amend.price == listed.price and listed.size <= amend.size
        leg = listed.venue_order_id
        remaining = order.born_remaining(leg, amend.size) if amend and ours else listed.size
        self._modified(order, leg, listed.price, remaining, report.ts_local)
        if not ours:
            order.listed_size = ListedSize(leg=leg, heard_ns=report.ts_local)
        self._claim_fills(order)

    def _claim_fills(self, order: ManagedOrder) -> None:
        """Count the fills of the order's leg heard before anything named the leg ours."""
        leg = order.venue_order_id
        claimed = [fill for fill in self._unclaimed if fill.venue_order_id == leg]
        for fill in claimed:
            self._unclaimed.remove(fill)
            self._count_fill(order, fill)

    @staticmethod
    def _count_fill(order: ManagedOrder, fill: OrderFilled) -> None:
        """The fill is the order's; its remaining shrinks unless the size the order has
        was read from a listing that already left the fill out."""
        order.count_fill(fill, MAX_LEGS_KEPT)
        if order.listed_size is not None and order.listed_size.already_out(fill):
            order.size += fill.size

    def _set_venue_id(self, order: ManagedOrder, venue_order_id: int, ts: int) -> None:
        order.venue_order_id = venue_order_id
        order.leg_ns = ts
        legs = self._legs_of.setdefault(order.cloid, [])
        if venue_order_id in legs:
            return
        legs.append(venue_order_id)
        self._by_venue_id[venue_order_id] = order.cloid
        if len(legs) > MAX_LEGS_KEPT:
            # A fill of a leg this many modifies old is not coming: the venue answered each
            # modify after the leg before it had stopped resting.
            self._by_venue_id.pop(legs.pop(0), None)

    def _move(self, cloid: str, status: OrderStatus, now_ns: int) -> None:
        order = self._orders.get(cloid)
        if order is None or order.status is status:
            return
        order.status = status
        order.updated_ns = now_ns
        self._record(order, now_ns)

    def _remove(self, cloid: str) -> None:
        """Forget the order and every venue id it had: ids only its last leg's before, so
        each modify that renumbered an order left one entry behind for the whole run."""
        self._orders.pop(cloid, None)
        for venue_order_id in self._legs_of.pop(cloid, ()):
            self._by_venue_id.pop(venue_order_id, None)

    def _record(self, order: ManagedOrder, now_ns: int) -> None:
        self._changes.append(
            OrderStateChanged(
                cloid=order.cloid,
                coin=self._coin,
                side=order.side,
                status=order.status,
                price=order.price,
                size=order.remaining,
                ts_local=now_ns,
            )
        )


def open_order_count(table: OrderTable) -> int:
    """Orders the venue may still hold (anything not terminal)."""
    return sum(1 for order in table.all() if not order.status.is_terminal)
