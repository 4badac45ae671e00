"""Closed forms checked against hand arithmetic, and each model's visible behaviour."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from makerd.quoting.avellaneda_stoikov import (
    AvellanedaStoikovModel,
    Horizon,
    optimal_spread,
    reservation_price,
)
from makerd.quoting.base import QuoteInputs
from makerd.quoting.glft import GlftModel, glft_coefficients, glft_half_spread_and_skew
from makerd.quoting.ladder import DistanceUnit, GeometricLadder, GridLadder, LinearLadder
from makerd.quoting.signals import BookSignal, imbalance, microprice
from makerd.quoting.skew import InventorySkew

FLAT_SKEW = InventorySkew(size_skew=0.0, one_sided_at=1.0)


def _inputs(**changes: object) -> QuoteInputs:
    base = QuoteInputs(
        mid=10_000.0,
        best_bid=9_999.0,
        best_ask=10_001.0,
        bid_size_top=1.0,
        ask_size_top=1.0,
        inventory=0.0,
        max_inventory=10.0,
        volatility=2e-4,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _distance_bps(price: float, mid: float) -> float:
    return abs(price - mid) / mid * 1e4


# --- Avellaneda–Stoikov -------------------------------------------------------------


def test_reservation_price_moves_against_inventory_by_q_gamma_sigma_squared_tau() -> None:
    # r = s − q·γ·σ²·τ = 100 − 2·0.1·2²·0.5 = 100 − 0.4 = 99.6
    assert reservation_price(
        mid=100.0, inventory=2.0, gamma=0.1, sigma=2.0, horizon_s=0.5
    ) == pytest.approx(99.6, abs=1e-12)


def test_optimal_spread_matches_the_hand_computed_value() -> None:
    # γσ²τ = 0.1·4·0.5 = 0.2
    # (2/γ)·ln(1 + γ/κ) = 20·ln(1 + 0.1/1.5) = 20·ln(16/15) = 20·0.0645385211 = 1.2907704
    # total = 1.4907704
    spread = optimal_spread(gamma=0.1, sigma=2.0, horizon_s=0.5, kappa=1.5)
    assert spread == pytest.approx(1.4907704227514, rel=1e-12)


def test_optimal_spread_tends_to_two_over_kappa_as_risk_aversion_vanishes() -> None:
    # (2/γ)·ln(1 + γ/κ) → 2/κ = 2/4 = 0.5 when γ → 0 (and σ = 0 removes the risk term)
    assert optimal_spread(gamma=1e-12, sigma=0.0, horizon_s=1.0, kappa=4.0) == pytest.approx(0.5)


def test_avellaneda_stoikov_model_quotes_the_closed_form_in_bps_of_the_mid() -> None:
    # Units: σ = 2e-4 per √s = 2 bps/√s; inventory 2 orders of size 1.
    # shift r − s = −2·0.1·2²·0.5 = −0.4 bps; half-spread = 1.4907704 / 2 = 0.7453852 bps
    # bid = 10000·(1 − (0.7453852 + 0.4)·1e-4) = 9998.854615
    # ask = 10000·(1 + (0.7453852 − 0.4)·1e-4) = 10000.345385
    model = AvellanedaStoikovModel(
        gamma=0.1, kappa_per_bps=1.5, horizon_s=0.5, order_size=1.0, skew=FLAT_SKEW
    )
    ladder = model.quote(_inputs(inventory=2.0))
    assert ladder.bids[0].price == pytest.approx(9998.8546148, abs=1e-6)
    assert ladder.asks[0].price == pytest.approx(10000.3453852, abs=1e-6)


def test_session_horizon_recentres_quotes_on_the_mid_at_the_close() -> None:
    model = AvellanedaStoikovModel(
        gamma=0.1,
        kappa_per_bps=1.5,
        horizon_s=3600.0,
        horizon=Horizon.SESSION,
        order_size=1.0,
        skew=FLAT_SKEW,
    )
    early = model.quote(_inputs(inventory=2.0, time_remaining_s=3000.0))
    at_close = model.quote(_inputs(inventory=2.0, time_remaining_s=0.0))
    early_centre = (early.bids[0].price + early.asks[0].price) / 2
    close_centre = (at_close.bids[0].price + at_close.asks[0].price) / 2
    assert early_centre < 10_000.0 - 1.0
    assert close_centre == pytest.approx(10_000.0, abs=1e-9)


def test_stationary_horizon_ignores_the_session_clock() -> None:
    model = AvellanedaStoikovModel(gamma=0.1, kappa_per_bps=1.5, horizon_s=10.0, order_size=1.0)
    assert model.quote(_inputs(time_remaining_s=1.0)) == model.quote(_inputs())


def test_reservation_shift_is_capped_at_max_skew_bps() -> None:
    model = AvellanedaStoikovModel(
        gamma=10.0, kappa_per_bps=1.0, horizon_s=100.0, order_size=1.0, max_skew_bps=20.0
    )
    ladder = model.quote(_inputs(inventory=5.0))
    centre = (ladder.bids[0].price + ladder.asks[0].price) / 2
    assert _distance_bps(centre, 10_000.0) == pytest.approx(20.0)


# --- GLFT ---------------------------------------------------------------------------


def test_glft_coefficients_match_the_hand_computed_values() -> None:
    # γ = ξ = 0.05, κ = 0.5, A = 2, Δ = 1  →  ξΔ/κ = 0.1
    # c1 = ln(1.1) / 0.05 = 0.0953101798 / 0.05 = 1.906203596
    # c2 = √( 0.05 / (2·2·1·0.5) · 1.1^(0.5/0.05 + 1) ) = √(0.025 · 1.1^11)
    #    = √(0.025 · 2.853116706) = √0.0713279177 = 0.267072870
    c1, c2 = glft_coefficients(gamma=0.05, kappa=0.5, arrival_a=2.0, order_size=1.0)
    assert c1 == pytest.approx(1.906203596, rel=1e-9)
    assert c2 == pytest.approx(0.267072870, rel=1e-8)


def test_glft_half_spread_and_skew_match_the_hand_computed_values() -> None:
    # σ = 3: half = c1 + (Δ/2)·σ·c2 = 1.906203596 + 0.5·3·0.267072870 = 2.306812900
    #        skew = σ·c2 = 3·0.267072870 = 0.801218609
    half, skew = glft_half_spread_and_skew(
        gamma=0.05, kappa=0.5, arrival_a=2.0, sigma=3.0, order_size=1.0
    )
    assert half == pytest.approx(2.306812900, rel=1e-8)
    assert skew == pytest.approx(0.801218609, rel=1e-8)


def test_glft_model_places_depths_half_plus_and_minus_skew_times_inventory() -> None:
    # σ = 3 bps/√s, 2 orders long: bid depth = 2.3068129 + 2·0.8012186 = 3.9092501 bps
    #                              ask depth = 2.3068129 − 2·0.8012186 = 0.7043757 bps
    model = GlftModel(
        gamma=0.05, kappa_per_bps=0.5, arrival_a_per_s=2.0, order_size=1.0, skew=FLAT_SKEW
    )
    ladder = model.quote(_inputs(volatility=3e-4, inventory=2.0))
    assert _distance_bps(ladder.bids[0].price, 10_000.0) == pytest.approx(3.9092501, abs=1e-6)
    assert _distance_bps(ladder.asks[0].price, 10_000.0) == pytest.approx(0.7043757, abs=1e-6)


def test_glft_uses_calibrated_intensity_when_the_inputs_carry_one() -> None:
    model = GlftModel(gamma=0.05, kappa_per_bps=0.5, arrival_a_per_s=2.0, order_size=1.0)
    configured = model.quote(_inputs())
    calibrated = model.quote(_inputs(arrival_kappa_per_bps=0.1, arrival_a_per_s=2.0))
    # A smaller κ (fills fall off slowly with depth) makes quoting deeper worthwhile.
    assert calibrated.bids[0].price < configured.bids[0].price
    assert calibrated.asks[0].price > configured.asks[0].price


def test_glft_with_zero_volatility_quotes_the_liquidity_half_spread_c1() -> None:
    model = GlftModel(
        gamma=0.05, kappa_per_bps=0.5, arrival_a_per_s=2.0, order_size=1.0, skew=FLAT_SKEW
    )
    ladder = model.quote(_inputs(volatility=0.0, inventory=3.0))
    # No volatility, no inventory risk: both sides sit at c1 = 1.906203596 bps.
    assert _distance_bps(ladder.bids[0].price, 10_000.0) == pytest.approx(1.906203596)
    assert _distance_bps(ladder.asks[0].price, 10_000.0) == pytest.approx(1.906203596)


# --- ladders ------------------------------------------------------------------------


def test_geometric_ladder_spaces_levels_with_a_constant_ratio() -> None:
    ladder = GeometricLadder(levels=3, order_size=1.0, min_distance=2.0, max_distance=18.0)
    quotes = ladder.quote(_inputs())
    # 2, 2·3, 2·9 bps: the ratio is (18/2)^(1/2) = 3.
    distances = [_distance_bps(q.price, 10_000.0) for q in quotes.asks]
    assert distances == pytest.approx([2.0, 6.0, 18.0])


def test_geometric_ladder_stretches_with_volatility_up_to_its_cap() -> None:
    ladder = GeometricLadder(
        levels=1,
        order_size=1.0,
        min_distance=2.0,
        max_distance=2.0,
        reference_volatility_bps=1.0,
        max_volatility_scale=3.0,
    )
    calm = ladder.quote(_inputs(volatility=0.5e-4))
    doubled = ladder.quote(_inputs(volatility=2e-4))
    wild = ladder.quote(_inputs(volatility=50e-4))
    assert _distance_bps(calm.asks[0].price, 10_000.0) == pytest.approx(2.0)
    assert _distance_bps(doubled.asks[0].price, 10_000.0) == pytest.approx(4.0)
    assert _distance_bps(wild.asks[0].price, 10_000.0) == pytest.approx(6.0)


def test_ladder_sizes_decay_by_the_factor_per_level() -> None:
    ladder = LinearLadder(
        levels=3, order_size=4.0, size_decay=0.5, base_distance=1.0, level_step=1.0
    )
    assert [q.size for q in ladder.quote(_inputs()).bids] == [4.0, 2.0, 1.0]


def test_linear_ladder_adds_a_volatility_multiple_to_the_fixed_distance() -> None:
    ladder = LinearLadder(
        levels=2, order_size=1.0, base_distance=3.0, level_step=2.0, volatility_multiplier=2.0
    )
    quotes = ladder.quote(_inputs(volatility=1.5e-4))
    # first = 3 bps + 2·1.5 bps·√1 = 6 bps; second = 6 + 2 = 8 bps
    distances = [_distance_bps(q.price, 10_000.0) for q in quotes.bids]
    assert distances == pytest.approx([6.0, 8.0])


def test_distances_in_ticks_use_the_tick_size_given() -> None:
    ladder = LinearLadder(
        levels=1, order_size=1.0, unit=DistanceUnit.TICKS, base_distance=3.0, level_step=1.0
    )
    quotes = ladder.quote(_inputs(tick_size=0.5))
    assert quotes.bids[0].price == pytest.approx(9_998.5)
    assert quotes.asks[0].price == pytest.approx(10_001.5)


def test_grid_lines_stay_put_while_the_mid_wanders_between_them() -> None:
    grid = GridLadder(levels=2, order_size=1.0, unit=DistanceUnit.TICKS, step=10.0)
    first = grid.quote(_inputs(mid=10_003.0, tick_size=1.0))
    second = grid.quote(_inputs(mid=10_007.0, tick_size=1.0))
    assert [q.price for q in first.bids] == [10_000.0, 9_990.0]
    assert [q.price for q in first.asks] == [10_010.0, 10_020.0]
    assert first == second


def test_grid_never_quotes_both_sides_on_the_line_the_mid_sits_on() -> None:
    grid = GridLadder(levels=1, order_size=1.0, unit=DistanceUnit.TICKS, step=10.0)
    quotes = grid.quote(_inputs(mid=10_000.0, tick_size=1.0))
    assert quotes.bids[0].price == 9_990.0
    assert quotes.asks[0].price == 10_010.0


def test_levels_deeper_than_the_price_floor_are_dropped_not_sent() -> None:
    ladder = GeometricLadder(levels=4, order_size=1.0, min_distance=10.0, max_distance=10_000.0)
    quotes = ladder.quote(_inputs())
    # 10, 100, 1000, 10000 bps: the last bid would be at 0, so only three bids remain.
    assert len(quotes.bids) == 3
    assert len(quotes.asks) == 4


# --- inventory skew -----------------------------------------------------------------


def test_long_inventory_makes_asks_cheaper_and_bids_smaller() -> None:
    ladder = LinearLadder(
        levels=1,
        order_size=1.0,
        base_distance=5.0,
        level_step=1.0,
        skew=InventorySkew(price_skew_bps=4.0, size_skew=0.5),
    )
    flat = ladder.quote(_inputs())
    long = ladder.quote(_inputs(inventory=5.0))
    assert long.asks[0].price < flat.asks[0].price
    assert long.bids[0].size < flat.bids[0].size
    assert long.asks[0].size == flat.asks[0].size


def test_margin_use_raises_the_urgency_of_the_skew() -> None:
    skew = InventorySkew(price_skew_bps=4.0, margin_urgency=1.0)
    assert skew.reservation_shift_bps(0.5, 0.8) < skew.reservation_shift_bps(0.5, 0.0) < 0


def test_past_one_sided_at_the_side_that_grows_the_position_is_withdrawn() -> None:
    ladder = LinearLadder(
        levels=2,
        order_size=1.0,
        base_distance=5.0,
        level_step=1.0,
        skew=InventorySkew(one_sided_at=0.6, size_skew=0.0),
    )
    short = ladder.quote(_inputs(inventory=-7.0))
    assert short.asks == ()
    assert len(short.bids) == 2


# --- book signals -------------------------------------------------------------------


def test_microprice_leans_toward_the_thin_side() -> None:
    # (100·1 + 102·3) / (3 + 1) = 406 / 4 = 101.5: a thick bid pushes fair value up.
    assert microprice(100.0, 102.0, 3.0, 1.0) == pytest.approx(101.5)
    assert imbalance(3.0, 1.0) == pytest.approx(0.5)


def test_book_signal_shift_is_bounded() -> None:
    signal = BookSignal(imbalance_shift_bps=10.0, max_signal_shift_bps=3.0)
    shifted = signal.reference_price(_inputs(bid_size_top=100.0, ask_size_top=0.0))
    assert shifted == pytest.approx(10_000.0 * (1 + 3e-4))


def test_book_signal_leaves_the_mid_alone_when_a_side_is_empty() -> None:
    signal = BookSignal(microprice_weight=1.0, imbalance_shift_bps=10.0)
    assert signal.reference_price(_inputs(best_ask=None, bid_size_top=5.0)) == 10_000.0


def test_models_reject_parameters_outside_their_range_by_name() -> None:
    with pytest.raises(ValueError, match=r"^kappa_per_bps:"):
        GlftModel(gamma=0.1, kappa_per_bps=math.inf, arrival_a_per_s=1.0, order_size=1.0)
