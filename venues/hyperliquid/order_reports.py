"""An ``orderUpdates`` report of one of this run's orders, as protocol events.

The exchange reports one order through the action's answer and this stream, in either
order, and a modify gives the order a new oid (the old leg shows up as "canceled" under
the same cloid): :class:`OrderLegs` says which report is news, so each event is emitted
once. An order reported that is none of this run's (placed by hand on the account, or one
of ours a manual modify brought back after it ended) is a stranger: said at once. Before,
the order manager's audit found one resting up to a minute and a half later, and a
trader's taker fill waited 2 s for an answer that would never name its order.
"""

from __future__ import annotations

from makerd.protocol.orders import (
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderRejected,
    OrderStatus,
)
from makerd.protocol.rejections import RejectReason
from makerd.protocol.stranger_orders import StrangerOrderReported
from makerd.venues.hyperliquid.parse import OrderStatusReported
from makerd.venues.hyperliquid.state import OrderLegs

OrderEvent = OrderAccepted | OrderModified | OrderCancelled | OrderRejected | StrangerOrderReported


def order_events(
    report: OrderStatusReported, cloid: str | None, legs: OrderLegs
) -> list[OrderEvent]:
    """What ``report`` (of ``cloid``, None when it carries none) tells that was not known;
    updates ``legs``."""
    if cloid is None or not legs.of_this_run(cloid):
        return [_stranger(report)]
    legs.forget_lapsed(report.ts_local)  # a lost modify's leg is no longer "replaced"
    if legs.is_finished(cloid) and legs.cloid_of(report.venue_order_id) != cloid:
        # A leg the order never had, after it ended: a trader's modify that kept the cloid.
        return [_stranger(report)]
    if report.status is OrderStatus.OPEN:
        return _opened(report, cloid, legs)
    if legs.is_old_leg(cloid, report.venue_order_id):
        legs.old_leg_ended(cloid, report)
        return []  # the leg a modify replaced (or is replacing): the order lives on
    return order_ended(report, cloid, legs)


def _opened(report: OrderStatusReported, cloid: str, legs: OrderLegs) -> list[OrderEvent]:
    new_leg = legs.is_new_leg(cloid, report.venue_order_id)
    if legs.request_of(cloid) is None:
        return [_stranger(report)]  # its request forgotten: nobody will cancel it unless asked
    if not legs.opened(cloid, report.venue_order_id, heard_ns=report.ts_local):
        return []  # already reported
    if new_leg:
        modified = OrderModified(
            cloid=cloid,
            venue_order_id=report.venue_order_id,
            price=report.price,
            size=report.size,
            ts_exchange=report.ts_exchange,
            ts_local=report.ts_local,
        )
        return [modified]
    accepted = OrderAccepted(
        cloid=cloid,
        venue_order_id=report.venue_order_id,
        coin=report.coin,
        side=report.side,
        price=report.price,
        size=report.size,
        ts_exchange=report.ts_exchange,
        ts_local=report.ts_local,
    )
    return [accepted]


def order_ended(report: OrderStatusReported, cloid: str, legs: OrderLegs) -> list[OrderEvent]:
    """Cancelled, filled or rejected: news once (the fills themselves come from userFills)."""
    if report.status is OrderStatus.CANCELLED:
        reason = legs.cancel_reason(cloid)
        if legs.finished(cloid):
            cancelled = OrderCancelled(
                cloid=cloid, reason=reason, ts_exchange=report.ts_exchange, ts_local=report.ts_local
            )
            return [cancelled]
    elif report.status is OrderStatus.FILLED:
        legs.finished(cloid)
    elif report.status is OrderStatus.REJECTED and legs.finished(cloid):
        rejected = OrderRejected(
            cloid=cloid,
            reason=report.reject_reason or RejectReason.OTHER,
            message=report.venue_status,
            ts_exchange=report.ts_exchange,
            ts_local=report.ts_local,
            coin=report.coin,
        )
        return [rejected]
    return []


def _stranger(report: OrderStatusReported) -> StrangerOrderReported:
    return StrangerOrderReported(
        coin=report.coin,
        venue_order_id=report.venue_order_id,
        status=report.status,
        ts_exchange=report.ts_exchange,
        ts_local=report.ts_local,
    )
