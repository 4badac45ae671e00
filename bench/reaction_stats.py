"""The figures of bench_reaction.py from the venue's stamps (pure: no processes, no clock)."""

from __future__ import annotations

import bisect
import itertools
from collections import Counter
from dataclasses import dataclass
from typing import Any

from fill_markouts import HORIZONS_MS, Markout, Money

NS_PER_MS = 1_000_000
NS_PER_MIN = 60_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFigures:
    name: str
    reactions_ms: tuple[float, ...]
    jumps: int
    quiet_hit: int
    quiet_instants: int
    actions: int
    minutes: float
    fills: int
    by_type: tuple[tuple[str, int], ...]
    money: Money | None = None
    budget: tuple[int, int] | None = None
    """The address's request budget over the window, from the venue's ``userRateLimit``:
    (requests spent, a batch's items counted one each; requests earned, one per USDC
    traded)."""

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the reactions (nan when none)."""
        ordered = sorted(self.reactions_ms)
        if not ordered:
            return float("nan")
        rank = max(1, -(-len(ordered) * q // 100))
        return ordered[int(rank) - 1]


def figures(
    *,
    name: str,
    stamps: dict[str, Any],
    user: str,
    started_ns: int,
    fills: int,
    quiet_window_ns: int,
    money: Money | None = None,
    budget: tuple[int, int] | None = None,
) -> RunFigures:
    """Reaction = first book of a jump → the user's first action after it, before the next
    jump; a quiet instant (half-way between two jumps) is "followed" by an action arriving
    within ``quiet_window_ns`` of it and before the next jump."""
    ended_ns = int(stamps["now_ns"])
    jumps = sorted(int(j["book_ns"]) for j in stamps["jumps"] if int(j["book_ns"]) >= started_ns)
    actions = [a for a in stamps["actions"] if a["user"] == user and a["arrived_ns"] >= started_ns]
    arrivals = sorted(int(a["arrived_ns"]) for a in actions)
    bounds = [*jumps[1:], ended_ns] if jumps else []
    reactions: list[float] = []
    for jump, next_jump in zip(jumps, bounds, strict=True):
        first = _first_in(arrivals, jump, next_jump)
        if first is not None:
            reactions.append((first - jump) / NS_PER_MS)
    quiet = [(a + b) // 2 for a, b in itertools.pairwise(jumps)]
    hit = sum(
        _first_in(arrivals, instant, min(instant + quiet_window_ns, next_jump)) is not None
        for instant, next_jump in zip(quiet, jumps[1:], strict=True)
    )
    return RunFigures(
        name=name,
        reactions_ms=tuple(reactions),
        jumps=len(jumps),
        quiet_hit=hit,
        quiet_instants=len(quiet),
        actions=len(arrivals),
        minutes=(ended_ns - started_ns) / NS_PER_MIN,
        fills=fills,
        by_type=tuple(Counter(str(a["type"]) for a in actions).most_common()),
        money=money,
        budget=budget,
    )


def _first_in(arrivals: list[int], after: int, before: int) -> int | None:
    """The first arrival strictly after ``after`` and before ``before``."""
    index = bisect.bisect_right(arrivals, after)
    if index < len(arrivals) and arrivals[index] < before:
        return arrivals[index]
    return None


def print_table(rows: list[RunFigures]) -> None:
    print(
        "| | reaction p50 / p90 / max | jumps unanswered | quiet instants followed by an"
        " action within 2 s | actions per minute | actions per fill | fills per hour |"
        " markout 1 s / 5 s per fill | PnL at the end mark, after fees |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        per_fill = f"{row.actions / row.fills:.2f}" if row.fills else "—"
        print(
            f"| {row.name} | {row.percentile(50):.2f} / {row.percentile(90):.2f} /"
            f" {max(row.reactions_ms, default=float('nan')):.2f} ms"
            f" | {row.jumps - len(row.reactions_ms)} of {row.jumps}"
            f" | {row.quiet_hit} of {row.quiet_instants}"
            f" | {row.actions / row.minutes:.1f} | {per_fill}"
            f" | {row.fills / row.minutes * 60:.0f} | {_markout_cell(row)} | {_pnl_cell(row)} |"
        )
    base = next((row for row in rows if row.name == "bare"), None)
    for row in rows:
        if base is not None and row is not base:
            print(
                f"{row.name} / bare: p50 {row.percentile(50) / base.percentile(50):.2f}x,"
                f" p90 {row.percentile(90) / base.percentile(90):.2f}x"
            )
    print_money([row for row in rows if row.money is not None])
    for row in rows:
        kinds = ", ".join(f"{kind} {count}" for kind, count in row.by_type)
        print(f"{row.name} actions by type over {row.minutes:.2f} min: {kinds or 'none'}")
        if row.budget is not None:
            spent, earned = row.budget
            print(
                f"{row.name} address budget over {row.minutes:.2f} min: spent {spent} requests"
                f" ({spent / row.minutes:.0f} a minute), earned {earned} by volume traded"
                f" ({earned / row.minutes:.0f} a minute)"
            )


def _markout_cell(row: RunFigures) -> str:
    if row.money is None or not row.money.total.fills:
        return "—"
    return _per_fill(row.money.total)


def _pnl_cell(row: RunFigures) -> str:
    return "—" if row.money is None else f"{row.money.pnl:+.2f} USD"


def _per_fill(markout: Markout) -> str:
    """``+0.12 / -0.30 USD (+1.2 / -3.0 bp)``: per fill at each horizon, and in bp."""
    if not markout.fills:
        return "—"
    usd = " / ".join(f"{markout.per_fill(h):+.2f}" for h in range(len(HORIZONS_MS)))
    bps = " / ".join(f"{markout.bps(h):+.1f}" for h in range(len(HORIZONS_MS)))
    return f"{usd} USD ({bps} bp)"


def print_money(rows: list[RunFigures]) -> None:
    """Markouts split by fills within 1 s of a jump and between jumps, totals and fees."""
    if not rows:
        return
    print(
        "\n| | fills near a jump / between | markout 1 s / 5 s per fill, near a jump"
        " | the same, between jumps | markout 1 s / 5 s in total | fees | PnL at the end mark |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        money = row.money
        assert money is not None
        total = money.total
        print(
            f"| {row.name} | {money.near_jump.fills} / {money.between.fills}"
            f" | {_per_fill(money.near_jump)} | {_per_fill(money.between)}"
            f" | {total.usd[0]:+.2f} / {total.usd[1]:+.2f} USD"
            f" | {money.fees:.2f} USD | {money.pnl:+.2f} USD |"
        )


IDLE_LEAVES = (
    "Condition.wait ",
    "Event.wait ",
    "select ",
    "IoLoop._serve ",
    "sleep ",
    "Actor._actor_loop_running ",
)
"""Frames a thread waits in (py-spy counts a thread blocked in C as busy; uvloop's loop
shows as ``IoLoop._serve``, an idle actor as pykka's loop, blocked in its inbox's C
``get``): samples that end in one are left out."""


def top_frames(raw: str, count: int, *, leaf: bool) -> list[tuple[float, str]]:
    """Busiest frames of py-spy's raw (collapsed) stacks: the share of busy samples in
    which each frame is on the stack (a frame counted once per sample), or is its top
    (``leaf``: where the time itself goes)."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        frames = stack.split(";")
        if any(idle in frames[-1] for idle in IDLE_LEAVES):
            continue
        total += int(samples)
        for frame in frames[-1:] if leaf else set(frames):
            inclusive[frame] += int(samples)
    if total == 0:
        return []
    return [(100 * n / total, frame) for frame, n in inclusive.most_common(count)]
