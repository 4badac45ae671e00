"""The adverse-selection guard, bracket orders and the model registry."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from makerd.protocol.instrument import Instrument
from makerd.protocol.side import Side
from makerd.quoting.base import QuoteInputs
from makerd.quoting.bracket import BracketSettings, compute_bracket
from makerd.quoting.markout import AdverseSelectionGuard, MarkoutSettings
from makerd.quoting.registry import MODEL_NAMES, build_model, model_parameters
from makerd.quoting.symmetric import SymmetricLadder

S = 1_000_000_000  # one second in nanoseconds
BTC = Instrument(coin="BTC", asset_id=0, sz_decimals=5)

INPUTS = QuoteInputs(
    mid=60_000.0,
    best_bid=59_999.0,
    best_ask=60_001.0,
    bid_size_top=1.0,
    ask_size_top=1.0,
    inventory=0.0,
    max_inventory=0.05,
    volatility=2e-4,
)


# --- markout guard ------------------------------------------------------------------


def _guard() -> AdverseSelectionGuard:
    return AdverseSelectionGuard(
        MarkoutSettings(
            horizon_s=5.0,
            loss_threshold_bps=1.0,
            widen_per_loss=0.5,
            max_widening=2.0,
            recovery_halflife_s=60.0,
        )
    )


def test_a_fill_followed_by_an_adverse_move_widens_the_spread() -> None:
    guard = _guard()
    guard.record_fill(Side.BUY, Decimal(100), 0)
    # 5 s later the mid is 99.95: −5 bps for our buy.
    factor = guard.observe_mid(99.95, 5 * S)
    assert factor == pytest.approx(1.5)
    assert guard.last_markout_bps == pytest.approx(-5.0)


def test_the_markout_is_not_judged_before_its_horizon() -> None:
    guard = _guard()
    guard.record_fill(Side.SELL, 100.0, 0)
    assert guard.observe_mid(101.0, 4 * S) == 1.0
    assert guard.measured_fills == 0


def test_favourable_markouts_do_not_widen() -> None:
    guard = _guard()
    guard.record_fill(Side.SELL, 100.0, 0)
    assert guard.observe_mid(99.0, 6 * S) == 1.0
    assert guard.losing_fills == 0


def test_widening_is_capped_and_halves_with_each_recovery_halflife() -> None:
    guard = _guard()
    for _ in range(5):
        guard.record_fill(Side.BUY, 100.0, 0)
    assert guard.observe_mid(99.0, 5 * S) == pytest.approx(2.0)  # 1 + min(1.0, 5·0.5)
    # 60 s later the excess of 1.0 has halved; 120 s later it is a quarter.
    assert guard.observe_mid(99.0, 65 * S) == pytest.approx(1.5)
    assert guard.observe_mid(99.0, 125 * S) == pytest.approx(1.25)


def test_the_widening_falls_back_once_fills_stop_losing() -> None:
    guard = _guard()
    for _ in range(4):
        guard.record_fill(Side.BUY, 100.0, 0)
    assert guard.observe_mid(99.9, 5 * S) == pytest.approx(2.0)  # −10 bps each: at the cap
    # One second later four buys mark out at +10 bps: the weighted markout turns, and
    # each winning fill takes a step of 0.5 off, far faster than the 60 s half-life.
    for _ in range(4):
        guard.record_fill(Side.BUY, 99.9, 1 * S)
    assert guard.observe_mid(99.99, 6 * S) == pytest.approx(1.0)
    # The weighted markout is no longer worse than the −1 bps threshold: not adverse.
    weighted = guard.weighted_markout_bps
    assert weighted is not None
    assert weighted > -1.0


def test_one_losing_fill_among_winners_does_not_widen() -> None:
    guard = _guard()
    for _ in range(3):
        guard.record_fill(Side.SELL, 100.0, 0)
    guard.observe_mid(99.9, 5 * S)  # three sells at +10 bps
    guard.record_fill(Side.SELL, 99.9, 6 * S)
    assert guard.observe_mid(99.95, 11 * S) == 1.0  # −5 bps, but the average still wins
    assert guard.losing_fills == 1


@settings(max_examples=200, deadline=None)
@given(
    moves=st.lists(
        st.tuples(
            st.sampled_from([Side.BUY, Side.SELL]),
            st.floats(min_value=-0.05, max_value=0.05),
            st.integers(min_value=0, max_value=30 * S),
        ),
        max_size=60,
    ),
    step=st.floats(min_value=0.0, max_value=5.0),
    cap=st.floats(min_value=1.0, max_value=20.0),
)
def test_the_widening_stays_between_one_and_its_cap(
    moves: list[tuple[Side, float, int]], step: float, cap: float
) -> None:
    guard = AdverseSelectionGuard(MarkoutSettings(widen_per_loss=step, max_widening=cap))
    now, mid = 0, 100.0
    for side, move, elapsed in moves:
        guard.record_fill(side, mid, now)
        now += elapsed
        mid *= 1 + move
        assert 1.0 <= guard.observe_mid(mid, now) <= cap


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.booleans(),  # a fill recorded, or the mid observed
            st.integers(min_value=-3 * S, max_value=8 * S),  # its time from the last one's
            st.floats(min_value=99.0, max_value=101.0),
        ),
        max_size=80,
    )
)
def test_each_fill_is_measured_at_the_first_mid_at_or_past_its_horizon(
    steps: list[tuple[bool, int, float]],
) -> None:
    """Fills and mids in any order of time (late fills, a clock that steps back): a
    fill's markout is taken from the first mid observed at or past its horizon, once,
    in the order the fills were recorded."""
    guard = AdverseSelectionGuard(MarkoutSettings(horizon_s=5.0))
    waiting: list[tuple[float, int]] = []  # (price, horizon) of the fills not yet measured
    measured, last_markout, now = 0, None, 10 * S
    for is_fill, elapsed, price in steps:
        now = max(0, now + elapsed)
        if is_fill:
            guard.record_fill(Side.BUY, price, now)
            waiting.append((price, now + 5 * S))
            continue
        guard.observe_mid(price, now)
        due = [(fill_price, horizon) for fill_price, horizon in waiting if horizon <= now]
        waiting = [fill for fill in waiting if fill[1] > now]
        measured += len(due)
        if due:
            last_markout = (price - due[-1][0]) / due[-1][0] * 10_000
        assert guard.measured_fills == measured
        if last_markout is None:
            assert guard.last_markout_bps is None
        else:
            assert guard.last_markout_bps == pytest.approx(last_markout)


def test_widened_model_pushes_both_sides_away_from_the_centre() -> None:
    model = build_model(
        "linear_ladder", {"levels": 1, "order_size": 0.01, "base_distance": 5, "level_step": 1}
    )
    normal = model.quote(INPUTS)
    wide = model.quote(replace(INPUTS, spread_widening=2.0))
    assert 60_000 - wide.bids[0].price == pytest.approx(2 * (60_000 - normal.bids[0].price))
    assert wide.asks[0].price - 60_000 == pytest.approx(2 * (normal.asks[0].price - 60_000))


# --- bracket ------------------------------------------------------------------------


def test_bracket_after_a_buy_sells_above_and_stops_below_the_entry() -> None:
    settings = BracketSettings(take_profit_bps=Decimal(20), stop_loss_bps=Decimal(30))
    bracket = compute_bracket(
        fill_side=Side.BUY,
        entry_price=Decimal(60_000),
        size=Decimal("0.002"),
        instrument=BTC,
        settings=settings,
    )
    # 60000·1.002 = 60120; 60000·0.997 = 59820; limits 50 bps beyond the trigger.
    assert bracket.take_profit.side is Side.SELL
    assert bracket.take_profit.trigger_price == Decimal(60_120)
    assert bracket.stop_loss.trigger_price == Decimal(59_820)
    # 59820·0.995 = 59520.9, rounded down (further from the trigger, for a sell) → 59520
    assert bracket.stop_loss.limit_price == Decimal(59_520)
    assert bracket.take_profit.kind == "tp"
    assert bracket.stop_loss.kind == "sl"


def test_bracket_after_a_sell_rounds_onto_ticks_without_giving_up_distance() -> None:
    coin = Instrument(coin="ETH", asset_id=1, sz_decimals=4)
    settings = BracketSettings(
        take_profit_bps=Decimal(7), stop_loss_bps=Decimal(7), limit_slippage_bps=Decimal(0)
    )
    bracket = compute_bracket(
        fill_side=Side.SELL,
        entry_price=Decimal("3001.3"),
        size=Decimal("0.05"),
        instrument=coin,
        settings=settings,
    )
    # TP: 3001.3·0.9993 = 2999.19909 → buy side rounds down → 2999.1 (≥ 7 bps of profit)
    # SL: 3001.3·1.0007 = 3003.40091 → rounds down, toward the entry → 3003.4 (≤ 7 bps loss)
    assert bracket.take_profit.side is Side.BUY
    assert bracket.take_profit.trigger_price == Decimal("2999.1")
    assert bracket.stop_loss.trigger_price == Decimal("3003.4")
    for order in (bracket.take_profit, bracket.stop_loss):
        assert coin.is_valid_price(order.trigger_price)
        assert coin.is_valid_price(order.limit_price)


def test_a_stop_that_rounds_onto_the_entry_moves_one_tick_away() -> None:
    settings = BracketSettings(take_profit_bps=Decimal(1), stop_loss_bps=Decimal("0.01"))
    bracket = compute_bracket(
        fill_side=Side.BUY,
        entry_price=Decimal(60_000),
        size=Decimal("0.001"),
        instrument=BTC,
        settings=settings,
    )
    assert bracket.stop_loss.trigger_price == Decimal(59_999)


def test_bracket_refuses_a_size_off_the_lot() -> None:
    settings = BracketSettings(take_profit_bps=Decimal(10), stop_loss_bps=Decimal(10))
    with pytest.raises(ValueError, match=r"^size:"):
        compute_bracket(
            fill_side=Side.BUY,
            entry_price=Decimal(60_000),
            size=Decimal("0.000001"),
            instrument=BTC,
            settings=settings,
        )


# --- registry -----------------------------------------------------------------------


def test_every_named_model_builds_and_quotes_both_sides() -> None:
    params: dict[str, dict[str, object]] = {
        "symmetric": {
            "levels": 2,
            "first_level_bps": Decimal(3),
            "level_spacing_bps": Decimal(3),
            "order_size": Decimal("0.002"),
        },
        "avellaneda_stoikov": {
            "gamma": 0.01,
            "kappa_per_bps": 0.5,
            "horizon_s": 10,
            "order_size": 0.002,
        },
        "glft": {"gamma": 0.01, "kappa_per_bps": 0.5, "arrival_a_per_s": 1, "order_size": 0.002},
        "geometric_ladder": {
            "levels": 3,
            "order_size": 0.002,
            "min_distance": 2,
            "max_distance": 9,
        },
        "linear_ladder": {"levels": 3, "order_size": 0.002, "base_distance": 2, "level_step": 2},
        "grid": {"levels": 3, "order_size": 0.002, "step": 5, "unit": "ticks"},
    }
    assert set(params) == set(MODEL_NAMES)
    for name, model_params in params.items():
        ladder = build_model(name, model_params).quote(INPUTS)
        assert ladder.bids, name
        assert ladder.asks, name
        assert ladder.bids[0].price < ladder.asks[0].price, name


def test_symmetric_is_the_existing_ladder_unchanged() -> None:
    params = {"levels": 2, "first_level_bps": 3.0, "level_spacing_bps": 3.0, "order_size": 0.002}
    direct = SymmetricLadder(levels=2, first_level_bps=3.0, level_spacing_bps=3.0, order_size=0.002)
    assert build_model("symmetric", params).quote(INPUTS) == direct.quote(INPUTS)


def test_an_unknown_parameter_is_named_with_the_nearest_valid_one() -> None:
    with pytest.raises(ValueError, match=r"kapa_per_bps: unknown .*did you mean kappa_per_bps"):
        build_model("glft", {"gamma": 1, "kapa_per_bps": 1, "arrival_a_per_s": 1, "order_size": 1})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(
        ValueError, match=r"(?s)gamma: must be a finite number.*order_size: required"
    ):
        build_model("avellaneda_stoikov", {"gamma": "high", "kappa_per_bps": 1, "horizon_s": 1})


def test_a_value_out_of_range_is_named() -> None:
    with pytest.raises(ValueError, match=r"^size_skew: must be within 0..1"):
        build_model("grid", {"levels": 1, "order_size": 1, "step": 1, "size_skew": 2})


def test_a_bad_enum_value_lists_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unit: must be one of bps, ticks"):
        build_model("grid", {"levels": 1, "order_size": 1, "step": 1, "unit": "pips"})


def test_an_unknown_model_name_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ValueError, match=r"did you mean glft"):
        build_model("gflt", {})


def test_symmetric_parameters_are_checked_too() -> None:
    with pytest.raises(ValueError, match=r"order_size: must be > 0"):
        build_model(
            "symmetric",
            {"levels": 1, "first_level_bps": 1, "level_spacing_bps": 1, "order_size": 0},
        )


def test_signal_keys_are_accepted_by_every_model() -> None:
    assert "microprice_weight" in model_parameters("symmetric")
    model = build_model(
        "linear_ladder",
        {
            "levels": 1,
            "order_size": 1,
            "base_distance": 5,
            "level_step": 1,
            "imbalance_shift_bps": 2,
        },
    )
    leaning = replace(INPUTS, bid_size_top=3.0, ask_size_top=1.0)
    assert model.quote(leaning).bids[0].price > model.quote(INPUTS).bids[0].price
