"""The bench's markouts: what each fill earned by where the venue's mid went after it."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from fill_markouts import Fill, MidTimeline, money

D = Decimal
JUMP_MS = 10_000
# The mid: 100 until the jump at 10 s, 100.3 from then on, and 100.2 from 15 s.
TIMELINE = MidTimeline(times_ms=(0, JUMP_MS, 15_000), mids=(D("100"), D("100.3"), D("100.2")))


def fill(time_ms: int, price: str, size: str, fee: str = "0") -> Fill:
    return Fill(time_ms=time_ms, price=D(price), size=D(size), fee=D(fee))


def test_a_sell_run_over_by_a_jump_loses_the_jump_times_its_size() -> None:
    run_over = fill(JUMP_MS + 20, "100.03", "-2")  # our ask, 3 bp above the old mid

    result = money([run_over], TIMELINE, jumps_ms=[JUMP_MS], ended_ms=20_000)

    assert result.near_jump.fills == 1
    assert result.between.fills == 0
    assert result.near_jump.usd == (D("-0.54"), D("-0.34"))  # -2 × (100.3 − 100.03), then 100.2
    assert result.near_jump.bps(0) == D("-0.54") / D("200.06") * 10_000
    assert result.near_jump.per_fill(1) == D("-0.34")


def test_a_buy_between_jumps_earns_its_spread_when_the_mid_stays() -> None:
    quiet_buy = fill(2_000, "99.97", "1", fee="-0.002")  # a rebate is a negative fee

    result = money([quiet_buy], TIMELINE, jumps_ms=[JUMP_MS], ended_ms=5_000)

    assert result.between.usd == (D("0.03"), D("0.03"))
    assert result.near_jump.fills == 0
    assert result.near_jump.bps(0) is None
    assert result.fees == D("-0.002")
    assert result.pnl == D("0.032")


def test_a_fill_more_than_a_second_after_a_jump_counts_as_between_jumps() -> None:
    late = fill(JUMP_MS + 1_001, "100.33", "-1")

    result = money([late], TIMELINE, jumps_ms=[JUMP_MS], ended_ms=20_000)

    assert (result.near_jump.fills, result.between.fills) == (0, 1)


def test_the_pnl_marks_every_fill_to_the_end_mid_less_fees() -> None:
    fills = [
        fill(JUMP_MS + 20, "100.03", "-2", fee="0.01"),
        fill(12_000, "100.27", "1", fee="0.01"),
        fill(17_000, "100.17", "1"),
    ]

    result = money(fills, TIMELINE, jumps_ms=[JUMP_MS], ended_ms=20_000)

    # Flat at the end: -2 × 100.03 sold, bought back at 100.27 and 100.17, 0.02 of fees.
    assert result.pnl == D("200.06") - D("100.27") - D("100.17") - D("0.02")
    assert result.total.fills == 3
    assert result.total.usd[1] == sum(
        (f.size * (TIMELINE.at(f.time_ms + 5_000) - f.price) for f in fills), D(0)
    )


def test_a_fill_older_than_the_kept_timeline_is_an_error_not_a_zero() -> None:
    with pytest.raises(ValueError, match="no mid at -1005 ms"):
        money([fill(-2_005, "100", "1")], TIMELINE, jumps_ms=[], ended_ms=1_000)
