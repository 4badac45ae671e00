"""Online volatility of the mid: an EWMA of squared log-returns, or GARCH(1,1).

Both estimators take ``(mid, ts_ns)`` observations (time is passed in, never read) and
report σ as the standard deviation of log-returns per √second — the unit of
``QuoteInputs.volatility``. Until ``min_samples`` returns have been seen they report the
configured ``initial`` value; the answer is always clamped to ``floor..cap``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from makerd.quoting.skew import clamp, require

NS_PER_S = 1_000_000_000


class VolatilityEstimator(Protocol):
    """What the quoter needs from a volatility estimator."""

    def observe(self, mid: float, ts_ns: int) -> None: ...

    @property
    def volatility(self) -> float: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class VolatilityBounds:
    """The prior and the sane range, all in log-return standard deviation per √s."""

    initial: float
    floor: float = 0.0
    cap: float = 0.05
    min_samples: int = 30

    def __post_init__(self) -> None:
        require(self.floor >= 0, "floor", "must be ≥ 0")
        require(self.cap > self.floor, "cap", "must be > floor")
        require(self.floor <= self.initial <= self.cap, "initial", "must be within floor..cap")
        require(self.min_samples >= 1, "min_samples", "must be ≥ 1")


class _Sampler:
    """Turns a stream of mids into log-returns at least ``min_interval_ns`` apart."""

    def __init__(self, min_interval_ns: int) -> None:
        self._min_interval_ns = min_interval_ns
        self._last_mid: float | None = None
        self._last_ts_ns = 0

    def log_return(self, mid: float, ts_ns: int) -> tuple[float, float] | None:
        """``(log_return, dt_s)`` when a new sample is due, else ``None``."""
        if not (math.isfinite(mid) and mid > 0):
            return None
        if self._last_mid is None:
            self._last_mid, self._last_ts_ns = mid, ts_ns
            return None
        elapsed_ns = ts_ns - self._last_ts_ns
        if elapsed_ns <= 0 or elapsed_ns < self._min_interval_ns:
            return None
        result = math.log(mid / self._last_mid), elapsed_ns / NS_PER_S
        self._last_mid, self._last_ts_ns = mid, ts_ns
        return result


class EwmaVolatility:
    """Exponentially weighted variance rate of log-returns, with time-based decay.

    Each return r over dt seconds contributes the variance rate r²/dt with weight dt, and
    older contributions fade with ``halflife_s``; dividing by the decayed total weight
    removes the start-up bias of a plain EWMA, so no prior leaks into the estimate.
    """

    def __init__(
        self, *, halflife_s: float, bounds: VolatilityBounds, min_interval_s: float = 0.0
    ) -> None:
        require(halflife_s > 0, "halflife_s", "must be > 0")
        require(min_interval_s >= 0, "min_interval_s", "must be ≥ 0")
        self._decay_per_s = math.log(2.0) / halflife_s
        self._bounds = bounds
        self._sampler = _Sampler(round(min_interval_s * NS_PER_S))
        self._weighted_variance = 0.0
        self._weight = 0.0
        self._samples = 0

    @property
    def samples(self) -> int:
        return self._samples

    def observe(self, mid: float, ts_ns: int) -> None:
        """Feed one mid observation; invalid or out-of-order ones are ignored."""
        sample = self._sampler.log_return(mid, ts_ns)
        if sample is None:
            return
        log_return, dt_s = sample
        fade = math.exp(-self._decay_per_s * dt_s)
        self._weighted_variance = self._weighted_variance * fade + log_return * log_return
        self._weight = self._weight * fade + dt_s
        self._samples += 1

    @property
    def volatility(self) -> float:
        """σ per √s, or the prior while there are fewer than ``min_samples`` returns."""
        bounds = self._bounds
        if self._samples < bounds.min_samples or self._weight <= 0:
            return bounds.initial
        return clamp(math.sqrt(self._weighted_variance / self._weight), bounds.floor, bounds.cap)


class GarchVolatility:
    """GARCH(1,1) on returns sampled every ``interval_s``, with variance targeting.

    h ← ω + α·r² + β·h, where ω = (1 − α − β)·v̄ and v̄ is the running mean of r²
    (so only α and β are configured). Returns over a longer gap are rescaled to one
    interval. σ per √s is √(h / interval_s).
    """

    def __init__(
        self,
        *,
        interval_s: float,
        bounds: VolatilityBounds,
        alpha: float = 0.05,
        beta: float = 0.90,
    ) -> None:
        require(interval_s > 0, "interval_s", "must be > 0")
        require(alpha >= 0, "alpha", "must be ≥ 0")
        require(beta >= 0, "beta", "must be ≥ 0")
        require(alpha + beta < 1, "beta", "alpha + beta must be < 1 (a stationary process)")
        self._interval_s = interval_s
        self._alpha = alpha
        self._beta = beta
        self._bounds = bounds
        self._sampler = _Sampler(round(interval_s * NS_PER_S))
        self._variance = bounds.initial**2 * interval_s
        self._mean_square = 0.0
        self._samples = 0

    @property
    def samples(self) -> int:
        return self._samples

    def observe(self, mid: float, ts_ns: int) -> None:
        """Feed one mid observation; a return is taken once per interval."""
        sample = self._sampler.log_return(mid, ts_ns)
        if sample is None:
            return
        log_return, dt_s = sample
        square = log_return * log_return * self._interval_s / dt_s
        self._samples += 1
        self._mean_square += (square - self._mean_square) / self._samples
        omega = (1.0 - self._alpha - self._beta) * self._mean_square
        self._variance = omega + self._alpha * square + self._beta * self._variance

    @property
    def volatility(self) -> float:
        """σ per √s, or the prior while there are fewer than ``min_samples`` returns."""
        bounds = self._bounds
        if self._samples < bounds.min_samples:
            return bounds.initial
        return clamp(math.sqrt(self._variance / self._interval_s), bounds.floor, bounds.cap)
