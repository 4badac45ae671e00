"""Decide the fewest order actions that bring resting orders close to a quote target.

Every action costs a request of the exchange's budget, and a moved order goes to the back
of the queue at its new price, so an order is moved only when that is worth it:

- an order *ahead* of its level (closer to the mid than wanted: more risk than the target
  asks for) moves once it is beyond the price tolerance; once it has rested at its price
  for ``queue_hold_ns`` it has moved up its queue and earns ``queue_hold_factor`` times
  the tolerance (chasing a brief wiggle would throw that place away);
- an order *behind* its level (safer than wanted) always earns the wider slack: moving it
  up improves its price, which is worth its queue place only when the gap is large;
- past ``max_age_ns`` an order loses both widenings: it is refreshed once it is beyond the
  plain tolerance, never merely for its age.

Orders that are not kept are amended onto unmatched levels; one still waiting for the
venue's answer holds its level until the answer comes (the next target amends it), and
orders beyond the target's levels are cancelled. Levels still unmatched get new orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from makerd.protocol.orders import QuoteLevel
from makerd.protocol.side import Side

BPS = Decimal("0.0001")


@dataclass(frozen=True, slots=True, kw_only=True)
class RestingView:
    """What the diff needs to know about one live order."""

    cloid: str
    price: Decimal
    remaining: Decimal
    age_ns: int
    """Time at the current price."""
    amendable: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Tolerance:
    price_bps: Decimal
    size_fraction: Decimal
    max_age_ns: int
    queue_hold_ns: int
    queue_hold_factor: Decimal

    def price_slack(self, level_price: Decimal, age_ns: int, *, behind: bool) -> Decimal:
        """How far from ``level_price`` an order of that age may rest and be kept."""
        slack = level_price * self.price_bps * BPS
        if age_ns >= self.max_age_ns:
            return slack
        if behind or age_ns >= self.queue_hold_ns:
            return slack * self.queue_hold_factor
        return slack


@dataclass(frozen=True, slots=True, kw_only=True)
class SideActions:
    keep: tuple[str, ...]
    amend: tuple[tuple[str, QuoteLevel], ...]
    cancel: tuple[str, ...]
    place: tuple[QuoteLevel, ...]


def diff_side(
    side: Side,
    resting: list[RestingView],
    targets: tuple[QuoteLevel, ...],
    tolerance: Tolerance,
) -> SideActions:
    unmatched = list(resting)
    keep: list[str] = []
    open_levels: list[QuoteLevel] = []
    for level in targets:
        match = _closest_within(side, unmatched, level, tolerance)
        if match is None:
            open_levels.append(level)
            continue
        unmatched.remove(match)
        keep.append(match.cloid)
    amend: list[tuple[str, QuoteLevel]] = []
    cancel: list[str] = []
    for order in unmatched:
        if not open_levels:
            cancel.append(order.cloid)  # more orders than levels
        elif order.amendable:
            amend.append((order.cloid, open_levels.pop(0)))
        else:
            # Still on its way (placed or amended, not yet answered): a cancel and a new
            # order would spend two actions where one amend, once it is answered, does.
            open_levels.pop(0)
            keep.append(order.cloid)
    return SideActions(
        keep=tuple(keep), amend=tuple(amend), cancel=tuple(cancel), place=tuple(open_levels)
    )


def _closest_within(
    side: Side, resting: list[RestingView], level: QuoteLevel, tolerance: Tolerance
) -> RestingView | None:
    size_slack = level.size * tolerance.size_fraction
    candidates = [
        order
        for order in resting
        if abs(order.price - level.price)
        <= tolerance.price_slack(level.price, order.age_ns, behind=_behind(side, order, level))
        and abs(order.remaining - level.size) <= size_slack
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda order: abs(order.price - level.price))


def _behind(side: Side, order: RestingView, level: QuoteLevel) -> bool:
    """Further from the mid than the level: a bid below it, an ask above it."""
    return order.price < level.price if side is Side.BUY else order.price > level.price
