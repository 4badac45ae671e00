"""The true mid of the synthetic market: stochastic volatility, jumps, drift and crashes.

The log-mid is an efficient price plus a transient wiggle. The efficient price follows a
diffusion whose log-volatility mean-reverts (an Ornstein–Uhlenbeck process), plus Poisson
jumps, a deterministic drift, the permanent impact of taker flow and, in the CRASH
scenario, a scheduled fall. The wiggle is a fast Ornstein–Uhlenbeck process: the
short-horizon back-and-forth that gives a maker its fills without moving the price for
good. Floats are fine here: the mid is a statistic; only the book carries exact prices.
"""

from __future__ import annotations

import math

import numpy as np

from makerd.venues.sim.scenarios import ScenarioParams

BPS = 1e-4


class CommonFactor:
    """The market-wide shock of each step, the same for every coin that asks for it.

    ``correlation`` is the share of a coin's diffusion variance that is this factor, so
    two coins' log-returns correlate by about that much. Each step's shock is drawn from
    its own seeded generator: coins stepped one after the other agree without a cache.
    """

    def __init__(self, *, seed: int, correlation: float) -> None:
        if not 0 <= correlation < 1:
            raise ValueError(f"correlation must be in [0, 1), got {correlation}")
        self._seed = seed
        self.weight = math.sqrt(correlation)
        self.own_weight = math.sqrt(1.0 - correlation)

    def shock(self, step: int) -> float:
        return float(np.random.default_rng((self._seed, step)).standard_normal())


class MidProcess:
    """Advances the true mid one fixed step at a time, drawing only from ``rng``
    (and, with several coins, from the ``common`` factor they share)."""

    def __init__(
        self,
        params: ScenarioParams,
        *,
        rng: np.random.Generator,
        start_price: float,
        step_s: float,
        common: CommonFactor | None = None,
    ) -> None:
        self._params = params
        self._common = common
        self._steps = 0
        self._rng = rng
        self._step_s = step_s
        self._sqrt_step = math.sqrt(step_s)
        self._log_mid = math.log(start_price)
        self._log_vol_excess = 0.0
        self._noise = 0.0
        self._noise_shock_scale = (
            params.noise_bps * BPS * math.sqrt(2.0 * params.noise_reversion_per_s * step_s)
        )
        self._elapsed_s = 0.0
        self._crash_rate_per_s = (
            math.log(1.0 - params.crash_depth) / params.crash_duration_s
            if params.crash_duration_s > 0
            else 0.0
        )

    @property
    def mid(self) -> float:
        return math.exp(self._log_mid + self._noise)

    @property
    def volatility_bps(self) -> float:
        """Current instantaneous volatility, bps per square-root second."""
        multiplier = self._params.crash_vol_multiplier if self.crashing else 1.0
        return self._params.vol_bps * math.exp(self._log_vol_excess) * multiplier

    @property
    def crashing(self) -> bool:
        start = self._params.crash_start_s
        return start <= self._elapsed_s < start + self._params.crash_duration_s

    @property
    def buy_share(self) -> float:
        """Probability that the next market order is a buy."""
        if self.crashing:
            return self._params.crash_buy_share
        return self._params.taker_buy_share

    def step(self, signed_taker_volume: float) -> float:
        """Advance one step, given the signed taker volume traded during it; return the mid."""
        params = self._params
        shocks = self._rng.standard_normal(4)
        self._log_vol_excess += (
            -params.vol_reversion_per_s * self._log_vol_excess * self._step_s
            + params.vol_of_vol * self._sqrt_step * shocks[0]
        )
        drift_per_s = params.drift_bps_per_s * BPS
        if self.crashing:
            drift_per_s += self._crash_rate_per_s
        # A step is short enough that "at most one jump" is the Poisson process to first order.
        jumped = self._rng.random() < params.jump_rate_per_s * self._step_s
        jump = params.jump_bps * BPS * shocks[2] if jumped else 0.0
        diffusion = shocks[1]
        if self._common is not None:
            common = self._common
            diffusion = common.weight * common.shock(self._steps) + common.own_weight * diffusion
        self._steps += 1
        self._log_mid += (
            drift_per_s * self._step_s
            + self.volatility_bps * BPS * self._sqrt_step * diffusion
            + jump
            + params.impact_bps_per_coin * BPS * signed_taker_volume
        )
        # The transient wiggle (bid-ask bounce, transient impact) reverts; the rest persists.
        self._noise += (
            -params.noise_reversion_per_s * self._noise * self._step_s
            + self._noise_shock_scale * shocks[3]
        )
        self._elapsed_s += self._step_s
        return self.mid
