"""A modify's answer → what it tells that was not known, and whether to ask the venue.

A refusal is a ``ModifyRejected``; a modify no status speaks for (the answer left it out)
tells nothing, and only the venue knows what became of it. An answer naming the order's
new leg is the rest of this note.

The stream may have reported that leg's end before the answer came (a good-till-cancel
price that filled on arrival, a taker that filled the new leg at once), taking it for a
leg the modify replaced: the answer then finds the report kept by
:meth:`OrderLegs.old_leg_ended` and opens no leg. The order is over if the leg it rested
on ended too, and its end is reported as the stream's report says (a fill: by its fills
alone, as an order filled before its answer always is). Otherwise the answer is stale:
a later modify's leg already rests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from makerd.protocol.orders import ModifyRejected, OrderModified, OrderRequest
from makerd.protocol.rejections import RejectReason
from makerd.venues.hyperliquid.errors import (
    FilledOnArrival,
    ItemRejected,
    ItemStatus,
    Resting,
    VenueError,
)
from makerd.venues.hyperliquid.order_reports import OrderEvent, order_ended
from makerd.venues.hyperliquid.state import OrderLegs

_NS_PER_S: Final = 1_000_000_000


def modify_outcome(
    amended: OrderRequest,
    status: ItemStatus | None,
    whole_error: VenueError | None,
    legs: OrderLegs,
    *,
    now_ns: int,
) -> tuple[Sequence[OrderEvent | ModifyRejected], bool]:
    """The events one modify's answer tells (its item's ``status``, None when the answer
    has none for it; ``whole_error`` when the action was refused whole), and whether only
    the venue can say what became of the order (ask it)."""
    cloid = amended.cloid
    if isinstance(status, Resting | FilledOnArrival):
        return modify_answered(amended, status.oid, legs, now_ns=now_ns), False
    error = status.error if isinstance(status, ItemRejected) else whole_error
    if error is None:
        return [], True  # no status for this item: only the venue knows
    # Its old leg may have ended meanwhile (the venue cancelled it, a taker filled it).
    legs.modify_refused(cloid)
    refused = modify_rejected(
        cloid,
        error.reason,
        error.message,
        now_ns=now_ns,
        after_s=error.retry_after_s,
        coin=amended.coin,
    )
    # A modify the venue refused may still have cancelled the old leg: ask. One refused
    # whole (the request budget, a rate limit) ran not at all, and the order rests as it
    # did: asking then spent every coin's snapshot per refusal and held the budget under
    # what a new order needs.
    ask = isinstance(status, ItemRejected) and error.reason is not RejectReason.UNKNOWN_ORDER
    return [refused], ask


def modify_rejected(
    cloid: str,
    reason: RejectReason,
    message: str,
    *,
    now_ns: int,
    after_s: float = 0.0,
    coin: str = "",
) -> ModifyRejected:
    """``after_s``: for a rate limit, how long the request budget refuses new risk;
    ``coin``: the order's, where known."""
    return ModifyRejected(
        cloid=cloid,
        reason=reason,
        message=message,
        ts_exchange=now_ns,
        ts_local=now_ns,
        retry_after_ns=round(after_s * _NS_PER_S),
        coin=coin,
    )


def modify_answered(
    amended: OrderRequest, oid: int, legs: OrderLegs, *, now_ns: int
) -> list[OrderEvent]:
    """The venue answered that ``amended`` rests (or filled) as the leg ``oid``."""
    cloid = amended.cloid
    ended = legs.ended_before_answer(cloid, oid)
    if ended is not None:
        return order_ended(ended, cloid, legs) if legs.current_leg_ended(cloid) else []
    legs.amended(amended)
    if not legs.opened(cloid, oid, heard_ns=now_ns):
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
