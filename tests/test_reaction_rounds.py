"""The bench's interleaved rounds: turns, jumps per round, pooled figures, round ratios."""

from __future__ import annotations

import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from fill_markouts import Markout, Money
from reaction_rounds import jumps_per_round, pooled, round_order, round_ratios
from reaction_stats import RunFigures

D = Decimal


def run(
    name: str, reactions: tuple[float, ...], *, by_type: tuple[tuple[str, int], ...] = ()
) -> RunFigures:
    return RunFigures(
        name=name,
        reactions_ms=reactions,
        jumps=len(reactions) + 1,
        quiet_hit=1,
        quiet_instants=len(reactions),
        actions=10,
        minutes=0.5,
        fills=2,
        by_type=by_type,
    )


def test_the_clients_take_turns_and_the_first_of_a_round_alternates() -> None:
    turns = [round_order(index, ["bare", "makerd"]) for index in range(4)]

    assert turns == [
        ("bare", "makerd"),
        ("makerd", "bare"),
        ("bare", "makerd"),
        ("makerd", "bare"),
    ]


def test_the_jumps_are_spread_over_the_rounds_with_at_least_two_in_each() -> None:
    assert jumps_per_round(30, 6) == 5
    assert jumps_per_round(31, 6) == 6  # no jump lost to rounding down
    assert jumps_per_round(3, 6) == 2  # a quiet instant needs two jumps
    with pytest.raises(ValueError, match="at least one round"):
        jumps_per_round(30, 0)


def test_a_clients_rounds_pool_into_one_row_of_sums() -> None:
    first = run("makerd", (3.0, 1.0), by_type=(("order", 6), ("cancel", 4)))
    second = run("makerd", (2.0,), by_type=(("order", 7), ("modify", 3)))

    row = pooled("makerd", [first, second])

    assert sorted(row.reactions_ms) == [1.0, 2.0, 3.0]
    assert row.percentile(50) == 2.0
    assert (row.jumps, row.quiet_hit, row.quiet_instants) == (5, 2, 3)
    assert (row.actions, row.minutes, row.fills) == (20, 1.0, 4)
    assert dict(row.by_type) == {"order": 13, "cancel": 4, "modify": 3}
    assert row.money is None


def markout(fills: int, notional: str, one_s: str, five_s: str) -> Markout:
    return Markout(fills=fills, notional=D(notional), usd=(D(one_s), D(five_s)))


def test_the_rounds_money_adds_up_exactly() -> None:
    near, between = markout(1, "100", "-0.5", "-0.25"), markout(2, "300", "0.1", "0.2")
    one = Money(near_jump=near, between=between, fees=D("0.01"), pnl=D("-0.3"))
    two = Money(near_jump=between, between=near, fees=D("-0.02"), pnl=D("0.7"))
    rounds = [
        replace(run("makerd", (1.0,)), money=one),
        replace(run("makerd", (2.0,)), money=two),
    ]

    money = pooled("makerd", rounds).money

    assert money is not None
    assert money.near_jump == markout(3, "400", "-0.4", "-0.05")
    assert money.total == markout(6, "800", "-0.8", "-0.10")
    assert (money.fees, money.pnl) == (D("-0.01"), D("0.4"))


def test_each_round_has_its_own_ratio_and_a_round_without_reactions_has_none() -> None:
    rounds = [
        {"bare": run("bare", (2.0, 2.0, 4.0)), "makerd": run("makerd", (3.0, 3.0, 9.0))},
        {"bare": run("bare", ()), "makerd": run("makerd", (3.0,))},
        {"bare": run("bare", (4.0,)), "makerd": run("makerd", (5.0,))},
    ]

    ratios = round_ratios(rounds, [0.5, 1.5, 2.5], base="bare", other="makerd")

    assert [(r.round_index, r.p50_ratio, r.load_1min) for r in ratios] == [
        (0, 1.5, 0.5),
        (2, 1.25, 2.5),
    ]
