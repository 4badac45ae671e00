"""What the order manager sends and sees: batched commands, the diff's view of orders,
and the room the exposure bound leaves for new quotes.

Kept apart from :mod:`actors.order_manager` (which decides *when*) because both are plain
functions of the order table: the commands mark what they carry as pending in the table
as they are built, so the table never lags what went out.
"""

from __future__ import annotations

from makerd.actors.exposure import ExposureLimit
from makerd.actors.order_diff import RestingView
from makerd.actors.order_state import WORKING, OrderTable
from makerd.protocol.clock import stepped_back
from makerd.protocol.orders import (
    CancelOrders,
    CancelReason,
    ModifyOrders,
    OrderAmendment,
    OrderRequest,
    OrderStatus,
    PlaceOrders,
    QuoteLevel,
    TimeInForce,
)
from makerd.protocol.side import Side

AGE_UNKNOWN = 1 << 62
"""The age of an order priced after "now" by the clock: the host's clock stepped back, and
how long it has held its price cannot be told. Taken as past every hold, as any wait whose
start lies ahead of the clock is over (:func:`makerd.protocol.clock.still_waiting`): read
as a negative age, it kept its widened slack for the step's length."""


def batched_commands(
    table: OrderTable,
    *,
    places: list[OrderRequest],
    amendments: list[OrderAmendment],
    cancels: list[str],
    reason: CancelReason,
    batch: int,
    now_ns: int,
) -> list[object]:
    """Cancels first (free margin and rate budget), then amendments, then new orders."""
    out: list[object] = []
    for start in range(0, len(cancels), batch):
        chunk = tuple(cancels[start : start + batch])
        table.mark_pending_cancel(chunk, now_ns)
        out.append(CancelOrders(cloids=chunk, reason=reason, ts_local=now_ns))
    for start in range(0, len(amendments), batch):
        amend_chunk = tuple(amendments[start : start + batch])
        table.mark_pending_modify(amend_chunk, now_ns)
        out.append(ModifyOrders(amendments=amend_chunk, ts_local=now_ns))
    for start in range(0, len(places), batch):
        place_chunk = tuple(places[start : start + batch])
        table.add_pending(place_chunk, now_ns)
        out.append(PlaceOrders(orders=place_chunk, ts_local=now_ns))
    return out


def resting_views(table: OrderTable, now_ns: int) -> tuple[list[RestingView], list[RestingView]]:
    """The quotes working on each side, bids then asks, as the diff sees them (bracket
    triggers are not). One pass, positional fields: it runs for every target."""
    bids: list[RestingView] = []
    asks: list[RestingView] = []
    for order in table.working(None):
        if order.trigger is None:
            view = RestingView(
                order.cloid,
                order.price,
                order.size - order.filled,
                AGE_UNKNOWN if stepped_back(now_ns, order.priced_ns) else now_ns - order.priced_ns,
                order.status is OrderStatus.OPEN,
            )
            (bids if order.side is Side.BUY else asks).append(view)
    return bids, asks


def within_bound(
    table: OrderTable, exposure: ExposureLimit, places: list[tuple[int, OrderRequest]]
) -> list[OrderRequest]:
    """The new quotes (by level index) that fit the bound beside every quote the venue may
    hold: working, being cancelled or in doubt."""
    working = cancelling = in_doubt = 0
    for order in table.all():  # one pass: it runs for every target that places
        if order.trigger is None:
            status = order.status
            working += status in WORKING
            cancelling += status is OrderStatus.PENDING_CANCEL
            in_doubt += status is OrderStatus.UNKNOWN
    room = exposure.room(working=working, cancelling=cancelling, in_doubt=in_doubt)
    return ExposureLimit.nearest_levels(places, room)


def quote_order(
    coin: str, side: Side, level: QuoteLevel, cloid: str, reduce_only: bool
) -> OrderRequest:
    """A ladder level as a post-only order (reduce-only while the risk guardian says so)."""
    return OrderRequest(
        cloid=cloid,
        coin=coin,
        side=side,
        price=level.price,
        size=level.size,
        tif=TimeInForce.POST_ONLY,
        reduce_only=reduce_only,
    )
