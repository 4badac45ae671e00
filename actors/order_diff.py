"""Decide the fewest order actions that bring resting orders close to a quote target.

An order within the price and size tolerance of a target level (and young enough) is
kept: its queue position is worth more than a perfect price. An order that has rested at
its price for ``queue_hold_ns`` has moved up its queue, so it earns a wider tolerance
(``queue_hold_factor`` times): chasing a brief wiggle would throw that place away.
Orders that are not kept are amended onto unmatched levels where the venue allows it,
cancelled otherwise; levels still unmatched get new orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from protocol.orders import QuoteLevel

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

    def price_slack(self, level_price: Decimal, age_ns: int) -> Decimal:
        slack = level_price * self.price_bps * BPS
        return slack * self.queue_hold_factor if age_ns >= self.queue_hold_ns else slack


@dataclass(frozen=True, slots=True, kw_only=True)
class SideActions:
    keep: tuple[str, ...]
    amend: tuple[tuple[str, QuoteLevel], ...]
    cancel: tuple[str, ...]
    place: tuple[QuoteLevel, ...]


def diff_side(
    resting: list[RestingView], targets: tuple[QuoteLevel, ...], tolerance: Tolerance
) -> SideActions:
    unmatched = list(resting)
    keep: list[str] = []
    open_levels: list[QuoteLevel] = []
    for level in targets:
        match = _closest_within(unmatched, level, tolerance)
        if match is None:
            open_levels.append(level)
            continue
        unmatched.remove(match)
        keep.append(match.cloid)
    amend: list[tuple[str, QuoteLevel]] = []
    cancel: list[str] = []
    for order in unmatched:
        if open_levels and order.amendable:
            amend.append((order.cloid, open_levels.pop(0)))
        else:
            cancel.append(order.cloid)
    return SideActions(
        keep=tuple(keep), amend=tuple(amend), cancel=tuple(cancel), place=tuple(open_levels)
    )


def _closest_within(
    resting: list[RestingView], level: QuoteLevel, tolerance: Tolerance
) -> RestingView | None:
    size_slack = level.size * tolerance.size_fraction
    candidates = [
        order
        for order in resting
        if abs(order.price - level.price) <= tolerance.price_slack(level.price, order.age_ns)
        and abs(order.remaining - level.size) <= size_slack
        and order.age_ns < tolerance.max_age_ns
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda order: abs(order.price - level.price))
