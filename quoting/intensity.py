"""Online fit of the fill intensity λ(δ) = A·e^(−κδ) from public trades.

A trade printed δ bps from the mid would have filled a resting quote at any depth up to
δ, so over a rolling window the rate of trades reaching at least depth d estimates λ(d).
Counting at a grid of depths and fitting ln λ(d) = ln A − κ·d by weighted least squares
(weights = counts, as the variance of ln n is about 1/n) gives A (fills per second) and κ
(per bps) — the approach of hftbacktest's ``measure_trading_intensity``. Until there are
enough trades, or when the fit is nonsense (κ ≤ 0), the configured fallback is reported;
a fit is always clamped to the configured bounds.

The estimator keeps the counts per grid depth up to date as trades enter and leave the
window, instead of sorting the whole window for every fit (a profile of a one-hour
backtest spent 15% of its time there before fits were reused for a second); the counts are
exactly those :func:`fit_intensity` derives from the raw depths, so the fit is the same.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from makerd.quoting.skew import BPS, clamp, require

NS_PER_S = 1_000_000_000
DEFAULT_DEPTHS_BPS = tuple(0.5 * step for step in range(41))  # 0 .. 20 bps
MIN_FIT_POINTS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class IntensityEstimate:
    """A (fills per second at zero depth) and κ (per bps); ``calibrated`` is False for the
    fallback."""

    a_per_s: float
    kappa_per_bps: float
    trades: int
    calibrated: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class IntensitySettings:
    """The window, the depth grid, the minimum evidence, the fallback and the bounds.

    - ``window_s``: rolling window, seconds.
    - ``depths_bps``: ascending depths at which λ is counted, bps of the mid.
    - ``min_trades``: trades in the window before a fit is trusted.
    - ``min_count_per_depth``: a depth needs this many trades to enter the fit (ln of a
      tiny count is mostly noise).
    - ``fallback_a_per_s`` / ``fallback_kappa_per_bps``: reported while uncalibrated.
    - ``a_bounds_per_s`` / ``kappa_bounds_per_bps``: inclusive clamps on a fit.
    """

    window_s: float
    fallback_a_per_s: float
    fallback_kappa_per_bps: float
    depths_bps: tuple[float, ...] = DEFAULT_DEPTHS_BPS
    min_trades: int = 50
    min_count_per_depth: int = 5
    a_bounds_per_s: tuple[float, float] = (1e-4, 1e4)
    kappa_bounds_per_bps: tuple[float, float] = (1e-3, 100.0)

    def __post_init__(self) -> None:
        require(self.window_s > 0, "window_s", "must be > 0")
        require(len(self.depths_bps) >= MIN_FIT_POINTS, "depths_bps", "needs ≥ 3 depths")
        require(list(self.depths_bps) == sorted(self.depths_bps), "depths_bps", "must ascend")
        require(self.min_trades >= 1, "min_trades", "must be ≥ 1")
        require(self.min_count_per_depth >= 1, "min_count_per_depth", "must be ≥ 1")
        _check_bounds("a_bounds_per_s", self.a_bounds_per_s, self.fallback_a_per_s)
        _check_bounds(
            "kappa_bounds_per_bps", self.kappa_bounds_per_bps, self.fallback_kappa_per_bps
        )


REFIT_EVERY_NS = NS_PER_S


class TradeIntensityEstimator:
    """Counts trade depths over a rolling window and fits A and κ on demand."""

    def __init__(self, settings: IntensitySettings, *, started_ns: int) -> None:
        self._settings = settings
        self._started_ns = started_ns
        self._window_ns = round(settings.window_s * NS_PER_S)
        self._grid = list(settings.depths_bps)
        # Per trade in the window, its time and how many grid depths it reaches; per bin,
        # how many trades reach exactly that many.
        self._times: deque[int] = deque()
        self._reach: deque[int] = deque()
        self._bins = [0] * (len(self._grid) + 1)
        self._last: tuple[int, IntensityEstimate] | None = None

    def record_trade(self, *, price: float, mid: float, ts_ns: int) -> None:
        """Note a public trade at ``price`` while the mid was ``mid`` (same price unit)."""
        if not (math.isfinite(price) and math.isfinite(mid) and mid > 0):
            return
        reach = bisect_right(self._grid, abs(price - mid) / mid / BPS)
        self._times.append(ts_ns)
        self._reach.append(reach)
        self._bins[reach] += 1

    def estimate(self, now_ns: int) -> IntensityEstimate:
        """The fit over the window ending at ``now_ns``, or the fallback.

        A fit less than :data:`REFIT_EVERY_NS` old is returned as it is: the quoter asks on
        every book, on the path from a price move to an order, and a fit over a window of
        minutes of trades barely moves within a second, while a fresh one costs a pass over
        every trade in it.
        """
        last = self._last
        if last is not None and 0 <= now_ns - last[0] < REFIT_EVERY_NS:
            return last[1]
        estimate = self._fit(now_ns)
        self._last = (now_ns, estimate)
        return estimate

    def _fit(self, now_ns: int) -> IntensityEstimate:
        self.evict(now_ns)
        settings = self._settings
        trades = len(self._times)
        observed_s = min(now_ns - self._started_ns, self._window_ns) / NS_PER_S
        fit = None
        if trades >= settings.min_trades and observed_s > 0:
            fit = fit_counts(
                np.array(self._depth_counts(), dtype=np.int64),
                observed_s,
                grid_bps=settings.depths_bps,
                min_count=settings.min_count_per_depth,
            )
        if fit is None:
            return IntensityEstimate(
                a_per_s=settings.fallback_a_per_s,
                kappa_per_bps=settings.fallback_kappa_per_bps,
                trades=trades,
                calibrated=False,
            )
        a_per_s, kappa = fit
        return IntensityEstimate(
            a_per_s=clamp(a_per_s, *settings.a_bounds_per_s),
            kappa_per_bps=clamp(kappa, *settings.kappa_bounds_per_bps),
            trades=trades,
            calibrated=True,
        )

    def _depth_counts(self) -> list[int]:
        # Trades reaching at least grid depth i: those whose reach is above i.
        counts: list[int] = []
        reaching = 0
        for bin_count in reversed(self._bins[1:]):
            reaching += bin_count
            counts.append(reaching)
        return counts[::-1]

    @property
    def trades_held(self) -> int:
        """Trades kept for the window (those older than it go at the next fit or eviction)."""
        return len(self._times)

    def evict(self, now_ns: int) -> None:
        """Drop the trades older than the window ending at ``now_ns``: a fit does it, and
        so must whoever records trades without asking for fits."""
        horizon = now_ns - self._window_ns
        times = self._times
        while times and times[0] < horizon:
            times.popleft()
            self._bins[self._reach.popleft()] -= 1


def fit_intensity(
    depths_bps: np.ndarray[tuple[int], np.dtype[np.float64]],
    duration_s: float,
    *,
    grid_bps: Sequence[float],
    min_count: int,
) -> tuple[float, float] | None:
    """Fit ``(A per second, κ per bps)`` to trade depths seen over ``duration_s``.

    Returns ``None`` when fewer than three grid depths have ``min_count`` trades or the
    fitted κ is not positive.
    """
    grid = np.asarray(grid_bps, dtype=float)
    sorted_depths = np.sort(depths_bps)
    # Trades at or beyond each grid depth: n − (number strictly shallower).
    counts = len(sorted_depths) - np.searchsorted(sorted_depths, grid, side="left")
    return fit_counts(counts, duration_s, grid_bps=grid_bps, min_count=min_count)


def fit_counts(
    counts: np.ndarray[tuple[int], np.dtype[np.int64]],
    duration_s: float,
    *,
    grid_bps: Sequence[float],
    min_count: int,
) -> tuple[float, float] | None:
    """:func:`fit_intensity` from the number of trades reaching each grid depth."""
    grid = np.asarray(grid_bps, dtype=float)
    usable = counts >= min_count
    if int(usable.sum()) < MIN_FIT_POINTS:
        return None
    log_rate = np.log(counts[usable] / duration_s)
    # np.polyfit weights multiply residuals, so √n gives weights proportional to n.
    slope, intercept = np.polyfit(grid[usable], log_rate, 1, w=np.sqrt(counts[usable]))
    kappa = -float(slope)
    if not (kappa > 0 and math.isfinite(kappa)):
        return None
    return math.exp(float(intercept)), kappa


def _check_bounds(name: str, bounds: tuple[float, float], fallback: float) -> None:
    low, high = bounds
    require(0 < low <= high, name, "must be 0 < low ≤ high")
    require(low <= fallback <= high, name, "must contain the fallback value")
