"""Parameters of the synthetic market, one set per :class:`config.model.Scenario`.

Units are in the names: ``_bps`` basis points of the mid, ``_per_s`` per simulated second,
``_s`` seconds, sizes in the coin's base units. Volatility is the standard deviation of mid
log-returns per square-root second (what the quoting models call ``volatility``), and it is
itself random: its logarithm mean-reverts to ``log(vol_bps)`` at ``vol_reversion_per_s``
with ``vol_of_vol`` noise, so calm stretches and bursts alternate within one scenario.

On top of that persistent movement sits a fast mean-reverting wiggle (``noise_bps``): the
short-horizon back-and-forth a maker earns its spread on. Without it, a quote 3 bps away
is only reached by moves that also run it over; with it, CALM gives a maker quoting
±3–6 bps with 0.002-coin orders about 20–25 fills a minute (measured by
``tests/test_sim_venue.py``), VOLATILE about 100, TRENDING about 30, CRASH about 60 while
the price falls through its bids.
"""

from __future__ import annotations

from dataclasses import dataclass

from makerd.config.model import Scenario


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioParams:
    """Everything that shapes one synthetic market, besides the seed and start price."""

    vol_bps: float
    """Long-run volatility of the mid, bps per square-root second."""
    vol_of_vol: float
    """Noise of log-volatility per square-root second."""
    vol_reversion_per_s: float
    """How fast log-volatility returns to ``log(vol_bps)``."""
    noise_bps: float
    """Stationary size of the mid's transient (mean-reverting) wiggle, bps."""
    noise_reversion_per_s: float
    """How fast that wiggle dies out (its half-life is ``ln 2 / noise_reversion_per_s``)."""
    drift_bps_per_s: float
    """Deterministic trend of the mid."""
    jump_rate_per_s: float
    """Poisson intensity of price jumps."""
    jump_bps: float
    """Standard deviation of one jump."""
    taker_rate_per_s: float
    """Poisson intensity of market orders (both sides together)."""
    taker_buy_share: float
    """Probability that a market order is a buy (0.5 is balanced flow)."""
    taker_median_size: float
    """Median market-order size; sizes are log-normal with ``taker_size_sigma``."""
    taker_size_sigma: float
    """Log-normal shape of market-order sizes (larger means a heavier tail)."""
    impact_bps_per_coin: float
    """Permanent mid move per coin of signed market-order volume."""
    depth_median_size: float
    """Median resting size of a background level at the touch."""
    depth_growth: float
    """How much larger a level is per tick away from the touch (relative)."""
    level_fill_probability: float
    """Share of price levels beyond the touch that hold any resting size."""
    crash_start_s: float = 0.0
    """When the crash begins (CRASH only)."""
    crash_duration_s: float = 0.0
    """How long the crash lasts (CRASH only)."""
    crash_depth: float = 0.0
    """Fraction of the price lost over the crash, e.g. 0.14 (CRASH only)."""
    crash_vol_multiplier: float = 1.0
    """Volatility multiplier while the crash runs (CRASH only)."""
    crash_buy_share: float = 0.5
    """Share of buy market orders while the crash runs (CRASH only)."""


CALM = ScenarioParams(
    vol_bps=1.0,
    vol_of_vol=0.15,
    vol_reversion_per_s=0.1,
    noise_bps=2.0,
    noise_reversion_per_s=1.0,
    drift_bps_per_s=0.0,
    jump_rate_per_s=0.03,
    jump_bps=2.0,
    taker_rate_per_s=4.0,
    taker_buy_share=0.5,
    taker_median_size=0.02,
    taker_size_sigma=1.7,
    impact_bps_per_coin=2.0,
    depth_median_size=0.1,
    depth_growth=0.04,
    level_fill_probability=0.6,
)
"""A quiet BTC afternoon: 1 bp/√s persistent volatility plus a 2 bp wiggle that reverts in
about a second, rare small jumps, balanced taker flow, ~6 public trades a second."""

VOLATILE = ScenarioParams(
    vol_bps=2.5,
    vol_of_vol=0.3,
    vol_reversion_per_s=0.1,
    noise_bps=3.0,
    noise_reversion_per_s=1.0,
    drift_bps_per_s=0.0,
    jump_rate_per_s=0.15,
    jump_bps=6.0,
    taker_rate_per_s=8.0,
    taker_buy_share=0.5,
    taker_median_size=0.025,
    taker_size_sigma=1.8,
    impact_bps_per_coin=3.0,
    depth_median_size=0.06,
    depth_growth=0.05,
    level_fill_probability=0.5,
)
"""A news-driven session: 2.5× the volatility with bursts (higher vol-of-vol), frequent
6 bp jumps, a thinner book and twice the taker flow (~16 trades a second)."""

TRENDING = ScenarioParams(
    vol_bps=1.2,
    vol_of_vol=0.2,
    vol_reversion_per_s=0.1,
    noise_bps=2.0,
    noise_reversion_per_s=1.0,
    drift_bps_per_s=0.5,
    jump_rate_per_s=0.05,
    jump_bps=2.5,
    taker_rate_per_s=5.0,
    taker_buy_share=0.6,
    taker_median_size=0.02,
    taker_size_sigma=1.7,
    impact_bps_per_coin=2.0,
    depth_median_size=0.1,
    depth_growth=0.04,
    level_fill_probability=0.6,
)
"""A steady grind upwards (0.5 bp/s, ~3% an hour) led by buyers (60% of market orders):
punishes a maker that keeps selling into the trend."""

CRASH = ScenarioParams(
    vol_bps=1.2,
    vol_of_vol=0.2,
    vol_reversion_per_s=0.1,
    noise_bps=2.0,
    noise_reversion_per_s=1.0,
    drift_bps_per_s=0.0,
    jump_rate_per_s=0.05,
    jump_bps=3.0,
    taker_rate_per_s=6.0,
    taker_buy_share=0.5,
    taker_median_size=0.02,
    taker_size_sigma=1.7,
    impact_bps_per_coin=2.0,
    depth_median_size=0.08,
    depth_growth=0.04,
    level_fill_probability=0.55,
    crash_start_s=20.0,
    crash_duration_s=150.0,
    crash_depth=0.14,
    crash_vol_multiplier=3.0,
    crash_buy_share=0.3,
)
"""Calm for 20 s, then 14% down over 2.5 minutes with triple volatility and 70% of market
orders selling, then it stabilises at the lower level (a drill for the kill switches)."""

_BY_SCENARIO = {
    Scenario.CALM: CALM,
    Scenario.VOLATILE: VOLATILE,
    Scenario.TRENDING: TRENDING,
    Scenario.CRASH: CRASH,
}


def scenario_params(scenario: Scenario) -> ScenarioParams:
    """The parameter set of ``scenario``."""
    return _BY_SCENARIO[scenario]
