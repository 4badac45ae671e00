"""Which orders the observer counts as resting, and when it last heard of each.

An order_manager that dies (restarted, or its coin halted) never says that one of its
orders filled: the fill goes to the fill tracker, and the order's last state change stays
in ``makerd_open_orders`` and ``makerd ctl status``. The venue's reports settle that: an
order it lists no more is gone, by the order_manager's own rule
(:meth:`actors.order_state.OrderTable.reconcile`).
"""

from __future__ import annotations

from makerd.protocol.clock import Clock
from makerd.protocol.orders import OpenOrdersReported, OrderStateChanged, OrderStatus


class HeardOrders:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._heard: dict[str, tuple[str, OrderStatus, int]] = {}
        """Each order's coin, last status and when it was heard of, by ``clock``: the clock
        the venue's reports are stamped with (a message's own time is its book's, earlier
        than the order was sent)."""

    def changed(self, change: OrderStateChanged) -> None:
        if change.status.is_terminal:
            self._heard.pop(change.cloid, None)
        else:
            self._heard[change.cloid] = (change.coin, change.status, self._clock.now_ns())

    def answered(self, cloid: str) -> None:
        """The venue answered an action on the order: it rested, whoever hears of it next."""
        if (heard := self._heard.get(cloid)) is not None:
            self._heard[cloid] = (heard[0], OrderStatus.OPEN, self._clock.now_ns())

    def forget(self, cloid: str) -> None:
        self._heard.pop(cloid, None)

    def unlisted(self, report: OpenOrdersReported) -> list[str]:
        """The orders ``report`` proves gone, forgotten here: absent from it, heard of before
        it was read, and open, or in doubt with nothing on its way that could place them."""
        listed = {order.cloid for order in report.orders}
        as_of = min(report.ts_exchange, report.ts_local)  # the paper venue answers later
        provable = {OrderStatus.OPEN}
        if report.unsettled_orders == 0:
            provable.add(OrderStatus.UNKNOWN)
        gone = [
            cloid
            for cloid, (coin, status, heard_ns) in self._heard.items()
            if coin == report.coin and cloid not in listed
            if heard_ns <= as_of and status in provable
        ]
        for cloid in gone:
            del self._heard[cloid]
        return gone
