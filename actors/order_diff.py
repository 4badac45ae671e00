"""Decide the fewest order actions that bring resting orders close to a quote target.

Every action costs a request of the exchange's budget, and a moved order goes to the back
of the queue at its new price, so an order is moved only when that is worth it:

- an order *ahead* of its level (closer to the mid than wanted: more risk than the target
  asks for, and the first to be run over when the market jumps) moves once it is beyond
  the price tolerance; once it has rested at its price for ``queue_hold_ns`` it has moved
  up its queue and earns ``queue_hold_factor`` times the tolerance (chasing a brief
  wiggle would throw that place away), but never beyond half its level's distance from
  the ladder's centre (at 2 times 2 bps a first level 3 bps out would rest past the mid);
- an order *behind* its level (safer than wanted) earns ``behind_factor`` times the
  tolerance: moving it up improves its price, which is worth its queue place only when
  the gap is large;
- past ``max_age_ns`` an order loses both widenings: it is refreshed once it is beyond the
  plain tolerance, never merely for its age;
- a level far from the ladder's centre (a deep level, or every level while the markout
  guard widens the ladder) is kept within ``depth_fraction`` of its distance from the
  centre, when that is more than the plain tolerance: a wiggle of 2 bps matters to an
  order 3 bps from the mid, not to one 9 bps away (nor does the guard's next step, which
  moves every level in proportion to its distance). The depth slack is never widened, so
  beyond the plain tolerance (and the queue widening, when its factor is above 1) an
  order ahead of its level stays at least ``1 - depth_fraction`` of its distance from the
  centre, and a jump beyond that is answered at once.

Orders that are not kept are amended onto unmatched levels; one still waiting for the
venue's answer holds its level until the answer comes (the next target amends it), and
orders beyond the target's levels are cancelled. Levels still unmatched get new orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from makerd.protocol.orders import QuoteLevel
from makerd.protocol.side import Side

BPS = Decimal("0.0001")


class RestingView(NamedTuple):
    """What the diff needs to know about one live order (a tuple: the order manager builds
    one per working order for every target, and a frozen dataclass took twice as long)."""

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
    behind_factor: Decimal
    depth_fraction: Decimal = Decimal(0)

    def price_slack(
        self, level_price: Decimal, age_ns: int, *, behind: bool, distance: Decimal = Decimal(0)
    ) -> Decimal:
        """How far from ``level_price`` an order of that age may rest and be kept;
        ``distance`` is the level's distance from the ladder's centre (0: unknown)."""
        plain = level_price * self.price_bps * BPS
        depth = distance * self.depth_fraction
        if age_ns >= self.max_age_ns:
            return max(plain, depth)
        if behind:
            return max(plain * self.behind_factor, depth)
        if age_ns >= self.queue_hold_ns:
            held = plain * self.queue_hold_factor
            if distance > 0:
                # Never past half the level's distance from the centre: at 2 x 2 bps a first
                # level 3 bps out rested 1 bp beyond the mid, the first order a move runs over.
                held = min(held, max(plain, distance / 2))
            return max(held, depth)
        return max(plain, depth)


@dataclass(frozen=True, slots=True, kw_only=True)
class SideActions:
    keep: tuple[str, ...]
    amend: tuple[tuple[str, QuoteLevel], ...]
    cancel: tuple[str, ...]
    place: tuple[QuoteLevel, ...]

    @property
    def idle(self) -> bool:
        """Nothing to send: every order kept, no level left to fill."""
        return not (self.amend or self.cancel or self.place)


def diff_sides(
    bids: list[RestingView],
    asks: list[RestingView],
    target: tuple[tuple[QuoteLevel, ...], tuple[QuoteLevel, ...]],
    tolerance: Tolerance,
) -> tuple[SideActions, SideActions]:
    """Both sides' actions, each level's slack judged from its distance to the centre."""
    target_bids, target_asks = target
    centre = ladder_centre(target_bids, target_asks)
    return (
        diff_side(Side.BUY, bids, target_bids, tolerance, centre=centre),
        diff_side(Side.SELL, asks, target_asks, tolerance, centre=centre),
    )


def ladder_centre(bids: tuple[QuoteLevel, ...], asks: tuple[QuoteLevel, ...]) -> Decimal | None:
    """Half-way between the best bid and the best ask of the target (the skewed reference
    the model quoted around); None when a side is not quoted."""
    if not bids or not asks:
        return None
    return (bids[0].price + asks[0].price) / 2


def diff_side(
    side: Side,
    resting: list[RestingView],
    targets: tuple[QuoteLevel, ...],
    tolerance: Tolerance,
    *,
    centre: Decimal | None = None,
) -> SideActions:
    unmatched = list(resting)
    keep: list[str] = []
    open_levels: list[QuoteLevel] = []
    for level in targets:
        distance = Decimal(0) if centre is None else abs(level.price - centre)
        match = _closest_within(side, unmatched, level, tolerance, distance)
        if match is None:
            open_levels.append(level)
            continue
        keep.append(unmatched.pop(match).cloid)
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
    side: Side,
    resting: list[RestingView],
    level: QuoteLevel,
    tolerance: Tolerance,
    distance: Decimal,
) -> int | None:
    """The index in ``resting`` of the order nearest ``level`` in price (the first of
    equals) among those within its price and size slack; None when there is none.

    Called for every level of every target, so it does the least per order: the slack
    takes one of four values at a level (old, behind, held in its queue, fresh), each
    worked out by :meth:`Tolerance.price_slack` once, when an order first needs it.
    """
    price, size = level.price, level.size
    size_slack = size * tolerance.size_fraction
    max_age_ns, queue_hold_ns = tolerance.max_age_ns, tolerance.queue_hold_ns
    buy = side is Side.BUY
    slacks: list[Decimal | None] = [None, None, None, None]
    best: int | None = None
    best_gap = Decimal(0)
    for index, order in enumerate(resting):
        signed_gap = order.price - price
        gap = abs(signed_gap)
        if best is not None and gap >= best_gap:
            continue  # cannot be nearer than the one found (the first of equals wins)
        behind = signed_gap < 0 if buy else signed_gap > 0  # further from the mid
        age_ns = order.age_ns
        if age_ns >= max_age_ns:
            kind = 0
        elif behind:
            kind = 1
        else:
            kind = 2 if age_ns >= queue_hold_ns else 3
        slack = slacks[kind]
        if slack is None:
            slack = tolerance.price_slack(price, age_ns, behind=behind, distance=distance)
            slacks[kind] = slack
        if gap <= slack and abs(order.remaining - size) <= size_slack:
            best, best_gap = index, gap
    return best
