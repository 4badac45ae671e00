"""Interleaved rounds of bench_reaction.py: both clients measured under the same load (pure).

Run one after the other for minutes each, the bare client and makerd see different
loads on a shared machine, and their ratio moves with whatever else ran (1.18–1.73x on
the same code). In rounds, each client runs a few jumps at a time on the round's seed,
the two taking turns (the first of a round alternates, so neither always goes first
into a load that is rising or falling); their figures are pooled per client, and each
round's own ratio shows how far load moved the comparison.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from fill_markouts import Markout, Money
from reaction_stats import RunFigures


def round_order(round_index: int, names: Sequence[str]) -> tuple[str, ...]:
    """The clients' turns in round ``round_index``: as given in even rounds, reversed in
    odd ones (ABBA), so a trend in the load falls on both alike."""
    return tuple(names) if round_index % 2 == 0 else tuple(reversed(names))


def jumps_per_round(jumps: int, rounds: int) -> int:
    """Jumps in each round: ``jumps`` spread over ``rounds``, at least 2 (a quiet instant
    lies between two jumps)."""
    if rounds < 1:
        raise ValueError("at least one round")
    return max(2, -(-jumps // rounds))


def pooled(name: str, runs: Sequence[RunFigures]) -> RunFigures:
    """One client's rounds as one run: reactions, jumps, actions, minutes and fills summed."""
    if not runs:
        raise ValueError(f"no rounds of {name}")
    by_type: Counter[str] = Counter()
    for run in runs:
        by_type.update(dict(run.by_type))
    moneys = [run.money for run in runs if run.money is not None]
    return RunFigures(
        name=name,
        reactions_ms=tuple(ms for run in runs for ms in run.reactions_ms),
        jumps=sum(run.jumps for run in runs),
        quiet_hit=sum(run.quiet_hit for run in runs),
        quiet_instants=sum(run.quiet_instants for run in runs),
        actions=sum(run.actions for run in runs),
        minutes=sum(run.minutes for run in runs),
        fills=sum(run.fills for run in runs),
        by_type=tuple(by_type.most_common()),
        money=_summed(moneys) if len(moneys) == len(runs) else None,
    )


def _summed(moneys: Sequence[Money]) -> Money:
    return Money(
        near_jump=_markouts([m.near_jump for m in moneys]),
        between=_markouts([m.between for m in moneys]),
        fees=sum((m.fees for m in moneys), Decimal(0)),
        pnl=sum((m.pnl for m in moneys), Decimal(0)),
    )


def _markouts(parts: Sequence[Markout]) -> Markout:
    return Markout(
        fills=sum(p.fills for p in parts),
        notional=sum((p.notional for p in parts), Decimal(0)),
        usd=tuple(sum(column, Decimal(0)) for column in zip(*(p.usd for p in parts), strict=True)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundRatio:
    """One round's p50 of a client over the base client's, and the load around it."""

    round_index: int
    p50_ratio: float
    load_1min: float


def round_ratios(
    rounds: Sequence[dict[str, RunFigures]], loads: Sequence[float], *, base: str, other: str
) -> list[RoundRatio]:
    """Each round's p50 ratio of ``other`` to ``base`` (rounds where either reacted to no
    jump are left out: a ratio of nothing is no figure)."""
    ratios: list[RoundRatio] = []
    for index, (runs, load) in enumerate(zip(rounds, loads, strict=True)):
        a, b = runs[other], runs[base]
        if a.reactions_ms and b.reactions_ms:
            ratio = a.percentile(50) / b.percentile(50)
            ratios.append(RoundRatio(round_index=index, p50_ratio=ratio, load_1min=load))
    return ratios


def print_rounds(ratios: Sequence[RoundRatio], *, base: str, other: str) -> None:
    """Each round's ratio with its load, then their median and spread."""
    print(f"\n{other} / {base} p50, round by round (1-minute load average at the round's start):")
    for ratio in ratios:
        print(f"round {ratio.round_index + 1}: {ratio.p50_ratio:.2f}x (load {ratio.load_1min:.2f})")
    if ratios:
        values = [r.p50_ratio for r in ratios]
        print(
            f"median of the rounds' ratios {statistics.median(values):.2f}x,"
            f" min {min(values):.2f}x, max {max(values):.2f}x over {len(values)} rounds"
        )
