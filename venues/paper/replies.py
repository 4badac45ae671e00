"""The events the paper venue answers with, stamped with exchange and delivery times.

``ts_exchange`` is when something happened at the venue; ``ts_local`` is when makerd
hears of it, one acknowledgement latency later.
"""

from __future__ import annotations

from decimal import Decimal

from makerd.protocol.account import OrderFilled, PositionReported
from makerd.protocol.orders import (
    CancelReason,
    CancelRejected,
    DeadManSwitchArmed,
    ModifyRejected,
    OpenOrder,
    OpenOrdersReported,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderRejected,
)
from makerd.protocol.risk import MarginReported
from makerd.venues.paper import rules
from makerd.venues.paper.queue import RestingOrder

PaperEvent = (
    OrderAccepted
    | OrderRejected
    | OrderModified
    | ModifyRejected
    | OrderCancelled
    | CancelRejected
    | OrderFilled
    | OpenOrdersReported
    | PositionReported
    | MarginReported
    | DeadManSwitchArmed
)
"""Everything the paper venue reports; each carries ``ts_exchange`` and ``ts_local``."""


class Replies:
    """Builds reply events for one coin, delivered ``ack_ns`` after they happen."""

    def __init__(self, *, coin: str, ack_ns: int) -> None:
        self._coin = coin
        self.ack_ns = ack_ns

    def accepted(self, order: RestingOrder, at_ns: int) -> OrderAccepted:
        return OrderAccepted(
            cloid=order.cloid,
            venue_order_id=order.venue_order_id,
            coin=self._coin,
            side=order.side,
            price=order.price,
            size=order.size,
            ts_exchange=at_ns,
            ts_local=at_ns + self.ack_ns,
        )

    def rejected(self, cloid: str, refusal: rules.Rejection, at_ns: int) -> OrderRejected:
        reason, text = refusal
        return OrderRejected(
            cloid=cloid,
            reason=reason,
            message=text,
            ts_exchange=at_ns,
            ts_local=at_ns + self.ack_ns,
            coin=self._coin,
        )

    def modified(self, order: RestingOrder, at_ns: int) -> OrderModified:
        return OrderModified(
            cloid=order.cloid,
            venue_order_id=order.venue_order_id,
            price=order.price,
            size=order.size,
            ts_exchange=at_ns,
            ts_local=at_ns + self.ack_ns,
        )

    def modify_rejected(self, cloid: str, refusal: rules.Rejection, at_ns: int) -> ModifyRejected:
        reason, text = refusal
        return ModifyRejected(
            cloid=cloid,
            reason=reason,
            message=text,
            ts_exchange=at_ns,
            ts_local=at_ns + self.ack_ns,
            coin=self._coin,
        )

    def cancelled(self, cloid: str, reason: CancelReason, at_ns: int) -> OrderCancelled:
        return OrderCancelled(
            cloid=cloid, reason=reason, ts_exchange=at_ns, ts_local=at_ns + self.ack_ns
        )

    def cancel_rejected(self, cloid: str, at_ns: int) -> CancelRejected:
        return CancelRejected(
            cloid=cloid,
            message=rules.CANCEL_MISSING_TEXT,
            ts_exchange=at_ns,
            ts_local=at_ns + self.ack_ns,
        )

    def account(
        self,
        coin: str,
        orders: list[RestingOrder],
        position: Decimal,
        average_entry: Decimal,
        at_ns: int,
    ) -> list[PaperEvent]:
        """The two answers to a :class:`protocol.orders.RequestAccountSnapshot`."""
        open_orders = tuple(
            OpenOrder(
                cloid=order.cloid,
                venue_order_id=order.venue_order_id,
                coin=coin,
                side=order.side,
                price=order.price,
                size=order.size,
            )
            for order in orders
        )
        delivered_ns = at_ns + self.ack_ns
        return [
            OpenOrdersReported(
                coin=coin, orders=open_orders, ts_exchange=at_ns, ts_local=delivered_ns
            ),
            PositionReported(
                coin=coin,
                position=position,
                average_entry=average_entry,
                ts_exchange=at_ns,
                ts_local=delivered_ns,
            ),
        ]
