"""Calibration recovers the parameters that generated seeded synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from makerd.quoting.intensity import (
    REFIT_EVERY_NS,
    IntensitySettings,
    TradeIntensityEstimator,
    fit_intensity,
)
from makerd.quoting.volatility import EwmaVolatility, GarchVolatility, VolatilityBounds

S = 1_000_000_000
SIGMA = 3e-4  # 3 bps per √s
BOUNDS = VolatilityBounds(initial=1e-4, floor=1e-6, cap=0.05, min_samples=30)


def _random_walk_mids(seed: int, *, steps: int, dt_s: float, sigma: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0, sigma * np.sqrt(dt_s), size=steps)
    return np.asarray(60_000.0 * np.exp(np.cumsum(returns)), dtype=float)


def test_ewma_recovers_the_volatility_of_a_random_walk_within_five_percent() -> None:
    estimator = EwmaVolatility(halflife_s=600.0, bounds=BOUNDS)
    mids = _random_walk_mids(1, steps=20_000, dt_s=0.1, sigma=SIGMA)
    for step, mid in enumerate(mids):
        estimator.observe(float(mid), step * S // 10)
    assert estimator.volatility == pytest.approx(SIGMA, rel=0.05)


def test_ewma_handles_irregular_sampling() -> None:
    rng = np.random.default_rng(2)
    gaps_s = rng.uniform(0.01, 1.0, size=10_000)
    returns = rng.normal(0.0, SIGMA * np.sqrt(gaps_s))
    estimator = EwmaVolatility(halflife_s=10_000.0, bounds=BOUNDS)
    ts_ns, mid = 0, 100.0
    estimator.observe(mid, ts_ns)
    for gap, log_return in zip(gaps_s, returns, strict=True):
        ts_ns += int(gap * S)
        mid *= float(np.exp(log_return))
        estimator.observe(mid, ts_ns)
    assert estimator.volatility == pytest.approx(SIGMA, rel=0.05)


def test_garch_estimates_average_to_a_constant_volatility_within_five_percent() -> None:
    # A conditional estimator is noisy sample by sample (about ±7 % here); its time
    # average over the last 4 000 intervals is what must match σ.
    estimator = GarchVolatility(interval_s=1.0, bounds=BOUNDS, alpha=0.05, beta=0.9)
    mids = _random_walk_mids(3, steps=5_000, dt_s=1.0, sigma=SIGMA)
    estimates = []
    for step, mid in enumerate(mids):
        estimator.observe(float(mid), step * S)
        if step >= 1_000:
            estimates.append(estimator.volatility)
    assert float(np.mean(estimates)) == pytest.approx(SIGMA, rel=0.05)


def test_garch_reacts_to_a_volatility_jump() -> None:
    estimator = GarchVolatility(interval_s=1.0, bounds=BOUNDS)
    calm = _random_walk_mids(4, steps=2_000, dt_s=1.0, sigma=SIGMA)
    storm = calm[-1] * np.exp(np.cumsum(np.random.default_rng(5).normal(0, 4 * SIGMA, 60)))
    for step, mid in enumerate(np.concatenate([calm, storm])):
        estimator.observe(float(mid), step * S)
    assert estimator.volatility > 2 * SIGMA


def test_volatility_reports_the_prior_until_enough_returns_arrive() -> None:
    estimator = EwmaVolatility(halflife_s=60.0, bounds=BOUNDS)
    for step in range(10):
        estimator.observe(100.0 * (1.01 if step % 2 else 1.0), step * S)
    assert estimator.volatility == BOUNDS.initial


def test_volatility_is_clamped_to_its_cap_and_ignores_bad_mids() -> None:
    estimator = EwmaVolatility(halflife_s=60.0, bounds=BOUNDS)
    for step in range(100):
        estimator.observe(100.0 * (3.0 if step % 2 else 1.0), step * S)
        estimator.observe(float("nan"), step * S + 1)
        estimator.observe(-1.0, step * S + 2)
    assert estimator.volatility == BOUNDS.cap


def _synthetic_trades(seed: int, *, a_per_s: float, kappa: float, seconds: float) -> np.ndarray:
    # A Poisson stream of rate A whose depths are exponential with rate κ has exactly
    # λ(δ) = A·e^(−κδ) trades per second reaching depth δ or beyond.
    rng = np.random.default_rng(seed)
    count = rng.poisson(a_per_s * seconds)
    return np.asarray(rng.exponential(1.0 / kappa, size=count), dtype=float)


def test_intensity_fit_recovers_a_and_kappa_within_ten_percent() -> None:
    depths = _synthetic_trades(11, a_per_s=2.0, kappa=0.4, seconds=3_600.0)
    fit = fit_intensity(depths, 3_600.0, grid_bps=[0.5 * step for step in range(21)], min_count=5)
    assert fit is not None
    a_per_s, kappa = fit
    assert a_per_s == pytest.approx(2.0, rel=0.10)
    assert kappa == pytest.approx(0.4, rel=0.10)


def test_online_estimator_recovers_intensity_over_its_rolling_window() -> None:
    settings = IntensitySettings(window_s=1_800.0, fallback_a_per_s=1.0, fallback_kappa_per_bps=1.0)
    estimator = TradeIntensityEstimator(settings, started_ns=0)
    rng = np.random.default_rng(12)
    # An hour of trades; only the last half hour (window) should count.
    depths = _synthetic_trades(13, a_per_s=3.0, kappa=0.25, seconds=3_600.0)
    times = np.sort(rng.uniform(0, 3_600.0, size=len(depths)))
    mid = 50_000.0
    for ts_s, depth in zip(times, depths, strict=True):
        side = 1 if rng.random() < 0.5 else -1
        estimator.record_trade(price=mid * (1 + side * depth * 1e-4), mid=mid, ts_ns=int(ts_s * S))
    estimate = estimator.estimate(3_600 * S)
    assert estimate.calibrated
    assert estimate.a_per_s == pytest.approx(3.0, rel=0.10)
    assert estimate.kappa_per_bps == pytest.approx(0.25, rel=0.10)
    assert estimate.trades == pytest.approx(3.0 * 1_800, rel=0.10)


def test_intensity_falls_back_while_there_are_too_few_trades() -> None:
    settings = IntensitySettings(
        window_s=60.0, fallback_a_per_s=1.5, fallback_kappa_per_bps=0.7, min_trades=50
    )
    estimator = TradeIntensityEstimator(settings, started_ns=0)
    for step in range(10):
        estimator.record_trade(price=100.01, mid=100.0, ts_ns=step * S)
    estimate = estimator.estimate(10 * S)
    assert not estimate.calibrated
    assert (estimate.a_per_s, estimate.kappa_per_bps) == (1.5, 0.7)


def test_intensity_fit_is_clamped_to_its_bounds() -> None:
    settings = IntensitySettings(
        window_s=100.0,
        fallback_a_per_s=1.0,
        fallback_kappa_per_bps=1.0,
        kappa_bounds_per_bps=(0.5, 2.0),
        min_trades=10,
    )
    estimator = TradeIntensityEstimator(settings, started_ns=0)
    # Every trade far out at a similar depth: a nearly flat λ(δ) and a tiny κ.
    for step, depth in enumerate(_synthetic_trades(14, a_per_s=5, kappa=0.01, seconds=100)):
        estimator.record_trade(price=100.0 * (1 + depth * 1e-4), mid=100.0, ts_ns=step * 10**7)
    estimate = estimator.estimate(100 * S)
    assert estimate.calibrated
    assert estimate.kappa_per_bps == 0.5


def test_intensity_settings_name_a_bad_bound() -> None:
    with pytest.raises(ValueError, match=r"^kappa_bounds_per_bps:"):
        IntensitySettings(
            window_s=1.0,
            fallback_a_per_s=1.0,
            fallback_kappa_per_bps=9.0,
            kappa_bounds_per_bps=(0.1, 5.0),
        )


def test_intensity_fit_is_reused_within_a_second_and_then_takes_new_trades() -> None:
    settings = IntensitySettings(
        window_s=60.0, fallback_a_per_s=1.5, fallback_kappa_per_bps=0.7, min_trades=50
    )
    estimator = TradeIntensityEstimator(settings, started_ns=0)
    for step, depth in enumerate(_synthetic_trades(15, a_per_s=5, kappa=0.3, seconds=20)):
        estimator.record_trade(price=100.0 * (1 + depth * 1e-4), mid=100.0, ts_ns=step * 10**7)
    first = estimator.estimate(20 * S)
    for step in range(100):  # a burst of trades far out, right after the fit
        estimator.record_trade(price=100.1, mid=100.0, ts_ns=20 * S + step)

    within_a_second = estimator.estimate(20 * S + S // 2)
    a_second_later = estimator.estimate(21 * S)

    assert within_a_second == first
    assert a_second_later.trades == first.trades + 100


def test_online_estimator_fits_exactly_as_a_refit_of_its_window_would() -> None:
    # The estimator updates its counts as trades enter and leave; refitting the raw
    # depths of the same window from scratch must give the very same numbers (whenever
    # it refits: within a second of a fit it returns that fit).
    settings = IntensitySettings(
        window_s=60.0, fallback_a_per_s=1.0, fallback_kappa_per_bps=1.0, min_trades=20
    )
    estimator = TradeIntensityEstimator(settings, started_ns=0)
    rng = np.random.default_rng(21)
    mid = 50_000.0
    window: list[tuple[int, float]] = []
    compared = calibrated = 0
    now_ns = 0
    refitted_ns = -S
    for _ in range(6_000):
        now_ns += int(rng.exponential(0.2) * S)
        if rng.random() < 0.6:
            # Some trades exactly at the mid or on a grid depth: the edges of the counting.
            ticks = rng.choice([0, 1, 5, int(rng.integers(0, 100))])
            price = mid + (1 if rng.random() < 0.5 else -1) * ticks * 2.5
            estimator.record_trade(price=price, mid=mid, ts_ns=now_ns)
            window.append((now_ns, abs(price - mid) / mid / 1e-4))
            continue
        if now_ns - refitted_ns < REFIT_EVERY_NS:
            continue
        refitted_ns = now_ns
        window = [(ts, depth) for ts, depth in window if ts >= now_ns - 60 * S]
        observed_s = min(now_ns, 60 * S) / S
        expected = fit_intensity(
            np.array([depth for _, depth in window]),
            observed_s,
            grid_bps=settings.depths_bps,
            min_count=settings.min_count_per_depth,
        )
        estimate = estimator.estimate(now_ns)
        assert estimate.trades == len(window)
        if len(window) >= settings.min_trades and expected is not None:
            calibrated += 1
            a_per_s, kappa = expected
            assert (estimate.a_per_s, estimate.kappa_per_bps) == (a_per_s, kappa)
        else:
            assert not estimate.calibrated
        compared += 1
    assert compared > 500
    assert calibrated > 300
