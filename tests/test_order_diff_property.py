"""The diff's quick path decides as the plain rule does, on many seeded random ladders.

``diff_side`` works a level's price slack out once per kind of order (old, behind, held,
fresh) and scans the orders once, passing over any no nearer than a match it has; the
plain rule, written here as the module first had it, asks :meth:`Tolerance.price_slack`
for every order and takes the nearest candidate. The same diff runs with each.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from makerd.actors import order_diff
from makerd.actors.order_diff import RestingView, Tolerance, diff_side
from makerd.protocol.orders import QuoteLevel
from makerd.protocol.side import Side
from tests.kit import S


def plain_closest_within(
    side: Side,
    resting: list[RestingView],
    level: QuoteLevel,
    tolerance: Tolerance,
    distance: Decimal,
) -> int | None:
    """The rule as first written: every order's slack asked for, the nearest candidate."""
    candidates = [
        order
        for order in resting
        if abs(order.price - level.price)
        <= tolerance.price_slack(
            level.price,
            order.age_ns,
            behind=order.price < level.price if side is Side.BUY else order.price > level.price,
            distance=distance,
        )
        and abs(order.remaining - level.size) <= level.size * tolerance.size_fraction
    ]
    if not candidates:
        return None
    return resting.index(min(candidates, key=lambda order: abs(order.price - level.price)))


def random_tolerance(rng: random.Random) -> Tolerance:
    return Tolerance(
        price_bps=Decimal(rng.choice(["0.5", "1", "2", "3.5"])),
        size_fraction=Decimal(rng.choice(["0", "0.1", "0.25", "1"])),
        max_age_ns=rng.choice([2, 10, 60]) * S,
        queue_hold_ns=rng.choice([1, 5, 90]) * S,  # 90 s: beyond the oldest age
        queue_hold_factor=Decimal(rng.choice(["0.5", "1", "2", "3"])),
        behind_factor=Decimal(rng.choice(["1", "2", "4"])),
        depth_fraction=Decimal(rng.choice(["0", "0.25", "0.5"])),
    )


def random_side(
    rng: random.Random, side: Side, mid: int
) -> tuple[list[RestingView], tuple[QuoteLevel, ...]]:
    """Levels 3 to 30 ticks from ``mid`` (a tick is 0.1 bp); orders near them, some at the
    same price (ties), some of another size, of ages either side of every threshold."""
    away = -1 if side is Side.BUY else 1
    sizes = [Decimal("0.002"), Decimal("0.0025"), Decimal("0.003")]
    levels = tuple(
        QuoteLevel(
            price=Decimal(mid + away * (3 + 9 * i + rng.randint(0, 4))), size=rng.choice(sizes)
        )
        for i in range(rng.randint(0, 4))
    )
    anchors = [level.price for level in levels] or [Decimal(mid + away * 10)]
    ages = [0, S // 2, S, 2 * S, 5 * S, 10 * S, 59 * S, 60 * S, 61 * S, 100 * S]
    orders = [
        RestingView(
            cloid=f"{side.value}{n}",
            price=rng.choice(anchors) + rng.randint(-60, 60),
            remaining=rng.choice(sizes),
            age_ns=rng.choice(ages) + rng.choice([-1, 0, 1]) * rng.randint(0, 1),
            amendable=rng.random() < 0.8,
        )
        for n in range(rng.randint(0, 5))
    ]
    return orders, levels


def test_the_quick_diff_decides_as_the_plain_rule_on_random_ladders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(20261207)
    mid = 100_000
    for _ in range(20_000):
        tolerance = random_tolerance(rng)
        side = rng.choice([Side.BUY, Side.SELL])
        resting, levels = random_side(rng, side, mid)
        centre = rng.choice([None, Decimal(mid), Decimal(mid + rng.randint(-20, 20))])

        quick = diff_side(side, resting, levels, tolerance, centre=centre)
        with monkeypatch.context() as plain_rule:
            plain_rule.setattr(order_diff, "_closest_within", plain_closest_within)
            plain = diff_side(side, resting, levels, tolerance, centre=centre)

        assert quick == plain
