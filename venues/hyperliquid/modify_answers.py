"""A modify's answer naming the order's new leg → what it tells that was not known.

The stream may have reported that leg's end before the answer came (a good-till-cancel
price that filled on arrival, a taker that filled the new leg at once), taking it for a
leg the modify replaced: the answer then finds the report kept by
:meth:`OrderLegs.old_leg_ended` and opens no leg. The order is over if the leg it rested
on ended too, and its end is reported as the stream's report says (a fill: by its fills
alone, as an order filled before its answer always is). Otherwise the answer is stale:
a later modify's leg already rests.
"""

from __future__ import annotations

from makerd.protocol.orders import OrderModified, OrderRequest
from makerd.venues.hyperliquid.order_reports import OrderEvent, order_ended
from makerd.venues.hyperliquid.state import OrderLegs


def modify_answered(
    amended: OrderRequest, oid: int, legs: OrderLegs, *, now_ns: int
) -> list[OrderEvent]:
    """The venue answered that ``amended`` rests (or filled) as the leg ``oid``."""
    cloid = amended.cloid
    ended = legs.ended_before_answer(cloid, oid)
    if ended is not None:
        return order_ended(ended, cloid, legs) if legs.current_leg_ended(cloid) else []
    legs.amended(amended)
    if not legs.opened(cloid, oid):
        return []
    modified = OrderModified(
        cloid=cloid,
        venue_order_id=oid,
        price=amended.price,
        size=amended.size,
        ts_exchange=now_ns,
        ts_local=now_ns,
    )
    return [modified]
