"""Which resting orders the order manager moves when the target moves: pure decisions.

The ladder is quoted around 100000 (1 bp = 10): level 1 at 3 bps, level 2 at 6, level 3
at 9 (more while the markout guard widens it); the price tolerance is 2 bps, doubled
behind a level and after 5 s at one price, and a level may drift half its distance from
the ladder's centre when that is more.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from makerd.actors.order_diff import (
    RestingView,
    SideActions,
    Tolerance,
    diff_side,
    diff_sides,
    ladder_centre,
)
from makerd.actors.refresh_policy import configured_tolerance
from makerd.config.model import OrderManagerConfig
from makerd.protocol.orders import QuoteLevel
from makerd.protocol.side import Side
from tests.kit import S

SIZE = Decimal("0.002")
TOLERANCE = Tolerance(
    price_bps=Decimal(2),
    size_fraction=Decimal("0.25"),
    max_age_ns=60 * S,
    queue_hold_ns=5 * S,
    queue_hold_factor=Decimal(2),
    behind_factor=Decimal(2),
    depth_fraction=Decimal("0.5"),
)


def resting(*prices: int, age_s: float = 1.0) -> list[RestingView]:
    return [
        RestingView(
            cloid=f"o{price}",
            price=Decimal(price),
            remaining=SIZE,
            age_ns=int(age_s * S),
            amendable=True,
        )
        for price in prices
    ]


def levels(*prices: int) -> tuple[QuoteLevel, ...]:
    return tuple(QuoteLevel(price=Decimal(price), size=SIZE) for price in prices)


def ladder(mid: int, *, spacing: int = 30) -> tuple[tuple[QuoteLevel, ...], tuple[QuoteLevel, ...]]:
    """Three levels a side, ``spacing`` apart (3, 6 and 9 bps from ``mid`` by default)."""
    steps = (spacing, 2 * spacing, 3 * spacing)
    return levels(*(mid - step for step in steps)), levels(*(mid + step for step in steps))


def moved(actions: SideActions) -> dict[str, Decimal]:
    return {cloid: level.price for cloid, level in actions.amend}


def test_a_bid_the_move_left_further_from_the_mid_stays_and_an_ask_it_left_closer_moves() -> None:
    # The mid rose 2.5 bps: the bid is 2.5 bps behind its level, the ask 2.5 bps ahead.
    bid = diff_side(Side.BUY, resting(99970), levels(99995), TOLERANCE, centre=Decimal(100025))
    ask = diff_side(Side.SELL, resting(100030), levels(100055), TOLERANCE, centre=Decimal(100025))

    assert bid.keep == ("o99970",)
    assert not bid.amend
    assert moved(ask) == {"o100030": Decimal(100055)}


def test_a_deep_level_drifts_further_than_the_first_before_it_is_moved() -> None:
    centre = Decimal(100000)
    # 4 bps ahead of a level 9 bps out: within half its distance from the centre.
    deep = diff_side(Side.SELL, resting(100050), levels(100090), TOLERANCE, centre=centre)
    # 2.5 bps ahead of a level 3 bps out: beyond the plain 2 bps.
    first = diff_side(Side.SELL, resting(100005), levels(100030), TOLERANCE, centre=centre)

    assert deep.keep == ("o100050",)
    assert moved(first) == {"o100005": Decimal(100030)}


def test_without_a_centre_every_level_gets_the_plain_tolerance() -> None:
    one_sided = diff_side(Side.SELL, resting(100050), levels(100090), TOLERANCE, centre=None)

    assert moved(one_sided) == {"o100050": Decimal(100090)}


def test_an_order_that_held_its_price_never_comes_closer_than_half_its_distance() -> None:
    # Held 10 s: the queue widening doubles the plain 2 bps to 4, but the depth slack
    # (4.5 bps for a level 9 bps out) is not doubled ahead of the level.
    held = resting(100035, age_s=10.0)
    ahead_5_5_bps = diff_side(Side.SELL, held, levels(100090), TOLERANCE, centre=Decimal(100000))

    assert moved(ahead_5_5_bps) == {"o100035": Decimal(100090)}


def test_a_first_level_that_held_its_price_is_moved_before_it_rests_past_the_centre() -> None:
    # Level 1 at 3 bps: held 10 s, the queue widening would let it drift 2 x 2 bps, to 1 bp
    # past the centre (an ask below the mid, which the next tick up runs over).
    held = resting(99995, 100010, age_s=10.0)
    past_centre = diff_side(Side.SELL, held[:1], levels(100030), TOLERANCE, centre=Decimal(100000))
    inside = diff_side(Side.SELL, held[1:], levels(100030), TOLERANCE, centre=Decimal(100000))

    assert moved(past_centre) == {"o99995": Decimal(100030)}
    assert inside.keep == ("o100010",), "2 bps ahead: within the plain tolerance"


def test_while_the_guard_widens_the_ladder_a_wiggle_moves_nothing() -> None:
    # The markout guard tripled the ladder: levels 9, 18 and 27 bps from the mid.
    widened = ladder(100000, spacing=90)
    resting_bids = resting(*(int(level.price) for level in widened[0]))
    resting_asks = resting(*(int(level.price) for level in widened[1]))

    # The mid rose 4 bps: the first ask is 4 bps ahead, within half of its 9 bps.
    after_wiggle = ladder(100040, spacing=90)
    bid_actions, ask_actions = diff_sides(resting_bids, resting_asks, after_wiggle, TOLERANCE)
    no_depth = replace(TOLERANCE, depth_fraction=Decimal(0))
    _, ask_actions_without_depth = diff_sides(resting_bids, resting_asks, after_wiggle, no_depth)

    assert not bid_actions.amend
    assert not ask_actions.amend
    assert ask_actions_without_depth.amend


def test_a_step_of_the_guard_moves_nothing_that_stays_within_half_its_distance() -> None:
    bids, asks = ladder(100000, spacing=60)

    # The guard's factor went from 2 to 2.5: every level 25 % further from the mid.
    bid_actions, ask_actions = diff_sides(
        resting(*(int(level.price) for level in bids)),
        resting(*(int(level.price) for level in asks)),
        ladder(100000, spacing=75),
        TOLERANCE,
    )

    assert not bid_actions.amend
    assert not ask_actions.amend


def test_a_jump_moves_every_order_of_both_sides_at_once_however_long_they_held() -> None:
    bids, asks = ladder(100000)
    held_bids = resting(*(int(level.price) for level in bids), age_s=30.0)
    held_asks = resting(*(int(level.price) for level in asks), age_s=30.0)

    # The mid fell 30 bps: every bid is far ahead of the new ladder, every ask far behind.
    bid_actions, ask_actions = diff_sides(held_bids, held_asks, ladder(99700), TOLERANCE)

    assert len(bid_actions.amend) == 3
    assert not bid_actions.keep
    assert len(ask_actions.amend) == 3
    assert not ask_actions.keep


def test_the_centre_is_half_way_between_the_best_levels_and_unknown_for_one_side() -> None:
    bids, asks = ladder(100000)

    assert ladder_centre(bids, asks) == Decimal(100000)
    assert ladder_centre(bids, ()) is None


# The asymmetric policy measured by bench/bench_reaction.py: 2 bps ahead of a level
# however long the order held its price, 8 times that behind it.
ASYMMETRIC = configured_tolerance(
    OrderManagerConfig(queue_hold_factor=Decimal(1), behind_tolerance_factor=Decimal(8))
)


def test_asymmetric_a_bid_a_move_left_3_bps_behind_stays_and_an_ask_it_left_3_bps_ahead_moves() -> (
    None
):
    # The mid rose 3 bps: the bid's level is now 100000, the ask's 100060.
    bid = diff_side(Side.BUY, resting(99970), levels(100000), ASYMMETRIC, centre=Decimal(100030))
    ask = diff_side(Side.SELL, resting(100030), levels(100060), ASYMMETRIC, centre=Decimal(100030))

    assert bid.keep == ("o99970",)
    assert moved(ask) == {"o100030": Decimal(100060)}


def test_asymmetric_a_bid_15_bps_behind_stays_and_one_17_bps_behind_is_moved_up() -> None:
    centre = Decimal(100000)
    close_enough = diff_side(Side.BUY, resting(99820), levels(99970), ASYMMETRIC, centre=centre)
    too_far = diff_side(Side.BUY, resting(99800), levels(99970), ASYMMETRIC, centre=centre)

    assert close_enough.keep == ("o99820",)
    assert moved(too_far) == {"o99800": Decimal(99970)}


def test_asymmetric_a_first_level_ask_that_held_its_price_is_moved_before_it_passes_the_mid() -> (
    None
):
    # Held 10 s, 2.5 bps ahead of a level 3 bps out: 0.5 bp from the mid.
    held = resting(100005, age_s=10.0)

    actions = diff_side(Side.SELL, held, levels(100030), ASYMMETRIC, centre=Decimal(100000))

    assert moved(actions) == {"o100005": Decimal(100030)}


def test_asymmetric_a_jump_moves_the_side_it_ran_toward_at_once_and_a_far_one_moves_both() -> None:
    bids, asks = ladder(100000)
    held_bids = resting(*(int(level.price) for level in bids), age_s=30.0)
    held_asks = resting(*(int(level.price) for level in asks), age_s=30.0)

    # The mid fell 10 bps: the bids are ahead of the new ladder, the asks 10 bps behind.
    small = diff_sides(held_bids, held_asks, ladder(99900), ASYMMETRIC)
    # The mid fell 30 bps: beyond the asks' 16 bps of slack too.
    large = diff_sides(held_bids, held_asks, ladder(99700), ASYMMETRIC)

    assert (len(small[0].amend), len(small[1].amend)) == (3, 0)
    assert (len(large[0].amend), len(large[1].amend)) == (3, 3)
