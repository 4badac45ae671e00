"""Fills the live adapter holds until their order is known, instead of dropping them.

A fill can arrive before the answer that says which cloid its oid belongs to: it is held
until :class:`.state.OrderLegs` knows the oid (then it carries the cloid), or for the
hold's length (the position must see it even if no order claims it). A stranger's order
(reported without a cloid of this run: a trader's, on the same account) will never be
named by an answer of ours, so its fills go at once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from typing import Final

from makerd.protocol.account import OrderFilled
from makerd.protocol.clock import still_waiting
from makerd.venues.hyperliquid.state import OrderLegs

_STRANGERS_KEPT: Final = 10_000


class PendingFills:
    """Fills without a cloid whose oid is not known yet, held until it is (or too long)."""

    def __init__(self, *, hold_ns: int) -> None:
        self._hold_ns = hold_ns
        self._held: list[OrderFilled] = []
        self._strangers: OrderedDict[int, None] = OrderedDict()
        """Oids of orders none of ours (reported without a cloid of this run): no answer
        will name them, so their fills go at once."""

    def stranger(self, oid: int) -> None:
        self._strangers[oid] = None
        if len(self._strangers) > _STRANGERS_KEPT:
            self._strangers.popitem(last=False)

    def is_strangers(self, oid: int) -> bool:
        return oid in self._strangers

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, fill: OrderFilled) -> None:
        self._held.append(fill)

    def release(self, legs: OrderLegs, now_ns: int) -> list[OrderFilled]:
        """Fills whose oid is now known (with the cloid filled in) or held too long."""
        released: list[OrderFilled] = []
        kept: list[OrderFilled] = []
        for fill in self._held:
            cloid = legs.cloid_of(fill.venue_order_id)
            if cloid is not None:
                released.append(replace(fill, cloid=cloid))
            elif fill.venue_order_id in self._strangers:
                released.append(fill)
            elif not still_waiting(now_ns, fill.ts_local, self._hold_ns):
                released.append(fill)  # the position must see it even if no order claims it
            else:
                kept.append(fill)
        self._held = kept
        return released
