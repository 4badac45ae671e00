"""Take-profit and stop-loss orders waiting off the book for the mark to reach them.

Hyperliquid fires TP/SL on its mark price. The paper venue sees only public data, so its
mark is the mid of each book snapshot: the touch would fire a stop on every flicker of the
spread, and the venue's own mark is a median that sits around the mid. An order waiting
here is in no queue and cannot fill; once fired it is an ordinary order at its limit price
(immediate-or-cancel for a market trigger, resting for a limit one), always reduce-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import OrderRequest, TimeInForce, Trigger
from makerd.protocol.rejections import RejectReason
from makerd.venues.paper import rules
from makerd.venues.paper.queue import ZERO, RestingOrder

BAD_TRIGGER_PRICE_TEXT = "Invalid TP/SL price."
NOT_REDUCE_ONLY_TEXT = "TP/SL order must be reduce-only."
MODIFY_TRIGGER_TEXT = "Trigger orders cannot be modified in paper; cancel and place again."


@dataclass(slots=True, kw_only=True)
class PendingTrigger:
    """A trigger order not yet fired: the order it becomes, and when it fires."""

    order: RestingOrder
    trigger: Trigger


class PendingTriggers:
    """Our un-fired trigger orders, in placement order."""

    def __init__(self) -> None:
        self._pending: dict[str, PendingTrigger] = {}

    def __contains__(self, cloid: str) -> bool:
        return cloid in self._pending

    def __iter__(self) -> Iterator[PendingTrigger]:
        return iter(list(self._pending.values()))

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, pending: PendingTrigger) -> None:
        self._pending[pending.order.cloid] = pending

    def remove(self, cloid: str) -> PendingTrigger | None:
        return self._pending.pop(cloid, None)

    def fire(self, mark: Decimal) -> list[PendingTrigger]:
        """Take out and return every order whose trigger ``mark`` has reached."""
        fired = [p for p in self._pending.values() if p.trigger.is_reached(p.order.side, mark)]
        for pending in fired:
            del self._pending[pending.order.cloid]
        return fired


def trigger_refusal(
    instrument: Instrument, request: OrderRequest, trigger: Trigger, reducible: Decimal
) -> rules.Rejection | None:
    """The rejection Hyperliquid would give a TP/SL order, or None if it may wait.

    ``reducible`` is how much the order's side could trade without growing the position.
    """
    # Whether the exchange holds a TP/SL's limit to the price band is not documented.
    refusal = rules.rule_rejection(
        instrument, request.price, request.size, reduce_only=request.reduce_only, reference=None
    )
    if refusal is not None:
        return refusal
    if not instrument.is_valid_price(trigger.price):
        return RejectReason.OTHER, BAD_TRIGGER_PRICE_TEXT
    if not request.reduce_only:
        return RejectReason.REDUCE_ONLY, NOT_REDUCE_ONLY_TEXT
    if reducible <= ZERO:
        return RejectReason.REDUCE_ONLY, rules.REDUCE_ONLY_TEXT
    return None


def fired_time_in_force(trigger: Trigger) -> TimeInForce:
    """How a fired trigger executes: a market TP/SL takes what it can, a limit one rests."""
    return TimeInForce.IMMEDIATE_OR_CANCEL if trigger.is_market else TimeInForce.GOOD_TILL_CANCEL
