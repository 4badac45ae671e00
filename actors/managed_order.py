"""One order as the order_manager believes it, and when a listing's size of it already
leaves a fill out: the race between a listing and a fill's report lives here.

A listing may show an order on a leg no word of ours explains (a modify whose answer and
stream reports were lost, not the one on its way; a trader's modify by hand under its
cloid). Only the listing gives that leg's size, and it is what rested when the venue
listed it: a fill the venue made before then is already out of it. The fill's report may
reach us after the listing, and taking it off the listed size again left the order
smaller than it is; enough such fills and it was forgotten as filled while it rested, the
next listing's orphan, and the orphan rule cancelled it and held the coin's quotes
(docs/invariants.md, section 3). :class:`ListedSize` says which fills are already out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from makerd.protocol.account import OrderFilled
from makerd.protocol.orders import NS_PER_S, OrderAmendment, OrderStatus, Trigger
from makerd.protocol.side import Side

EXCHANGE_CLOCK_AHEAD_NS: Final = 5 * NS_PER_S
"""How far the exchange's clock may run ahead of the host's: the feed refuses books, fills
and account answers stamped further ahead than ``feed.max_clock_skew_s`` (5 s by default),
so makerd does not quote on a host further behind the exchange."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedSize:
    """The order's size was read from a listing of its leg ``leg``, heard at ``heard_ns``
    (the host's clock, when the answer came back: the venue listed before then).

    The race: the exchange does not say when it listed, and a fill's time is the
    exchange's. A fill is taken as made before the listing, so already out of the listed
    size, when its exchange time is at most ``heard_ns`` plus how far the exchange's clock
    may run ahead of the host's (:data:`EXCHANGE_CLOCK_AHEAD_NS`). Every fill made before
    the listing passes, whatever the clocks within that bound. The error falls on fills
    made after the listing but inside the bound (the exchange's clock behind the host's
    widens it): those are not taken off, and the order is believed bigger than it rests.
    That is the safe side: it stays counted under the open-order bound until the venue
    ends its leg (a listing that no longer shows it, a modify refused as not resting).
    The other side, an order believed filled while it rests, is the orphan above."""

    leg: int
    heard_ns: int

    def already_out(self, fill: OrderFilled) -> bool:
        """Whether the listed size already left ``fill`` out (see the class docstring)."""
        made_by_then = fill.ts_exchange <= self.heard_ns + EXCHANGE_CLOCK_AHEAD_NS
        return fill.venue_order_id == self.leg and made_by_then


@dataclass(slots=True, kw_only=True)
class ManagedOrder:
    """Mutable, and private to the order_manager's thread; never sent anywhere."""

    cloid: str
    side: Side
    price: Decimal
    size: Decimal
    filled: Decimal
    status: OrderStatus
    venue_order_id: int | None
    created_ns: int
    updated_ns: int
    priced_ns: int
    """When the order took its current price (its queue position dates from then)."""
    leg_ns: int
    """When the venue last named the order's leg (its venue id): a listing asked before
    then may show an older leg."""
    amend_to: OrderAmendment | None = None
    trigger: Trigger | None = None
    """Set for a take-profit / stop-loss: not a quote level, never diffed against one."""
    listed_size: ListedSize | None = None
    """Set while the order's size is the one a listing gave its leg."""
    filled_by_leg: dict[int, Decimal] = field(default_factory=dict)
    """What each recent leg (venue id) filled: a leg is born at its modify's size, and the
    fills of it heard before the word of its birth are already in ``filled``."""

    def count_fill(self, fill: OrderFilled, legs_kept: int) -> None:
        """Count ``fill`` as the order's, remembering its leg's share (``legs_kept`` legs)."""
        self.filled += fill.size
        leg = fill.venue_order_id
        self.filled_by_leg[leg] = self.filled_by_leg.pop(leg, Decimal(0)) + fill.size
        if len(self.filled_by_leg) > legs_kept:
            del self.filled_by_leg[next(iter(self.filled_by_leg))]

    def born_remaining(self, leg: int, born_size: Decimal) -> Decimal:
        """What rests of a leg born at ``born_size``, after the fills of it counted so far."""
        return born_size - self.filled_by_leg.get(leg, Decimal(0))

    @property
    def remaining(self) -> Decimal:
        return self.size - self.filled
