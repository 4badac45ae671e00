"""Avellaneda–Stoikov (2008): reservation price and optimal spread.

The market maker maximises the expected exponential utility of terminal wealth while the
mid follows an arithmetic Brownian motion with volatility σ and market orders hit a quote
at depth δ with intensity λ(δ) = A·e^(−κδ). The closed forms (their eq. 29-30):

    reservation price  r = s − q·γ·σ²·τ
    total spread       ψ = γ·σ²·τ + (2/γ)·ln(1 + γ/κ)

with τ = T − t the time left. In a finite trading session τ shrinks to zero at the close
(inventory risk fades, so quotes re-centre on the mid). A 24/7 market has no close; the
stationary form uses a fixed horizon τ = ``horizon_s`` — how far ahead the inventory risk
is counted — so the quotes do not drift with the clock.

The plain functions take any consistent units; :class:`AvellanedaStoikovModel` uses
basis points of the mid for prices (σ in bps/√s, κ in 1/bps) and "orders of
``order_size``" for inventory, so the same γ and κ suit BTC at 60 000 and a coin at 0.01.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

from makerd.quoting.base import QuoteInputs, RawLadder
from makerd.quoting.ladder import LevelShape, is_quotable, ladder_from_depths, positive_or
from makerd.quoting.skew import (
    BPS,
    InventorySkew,
    clamp,
    inventory_ratio,
    require,
    require_ladder_shape,
)


def reservation_price(
    *, mid: float, inventory: float, gamma: float, sigma: float, horizon_s: float
) -> float:
    """Avellaneda–Stoikov reservation price ``r = s − q·γ·σ²·τ``.

    Args:
        mid: s, the mid price, in price units P.
        inventory: q, signed position, in inventory units Q (positive = long).
        gamma: γ, risk aversion, in 1/(P·Q).
        sigma: σ, volatility of the mid, in P per √second.
        horizon_s: τ, time left (finite session) or the fixed horizon, in seconds.

    Returns:
        The reservation price, in P.
    """
    return mid - inventory * gamma * sigma * sigma * horizon_s


def optimal_spread(*, gamma: float, sigma: float, horizon_s: float, kappa: float) -> float:
    """Avellaneda–Stoikov total spread ``γ·σ²·τ + (2/γ)·ln(1 + γ/κ)`` (ask − bid).

    Args:
        gamma: γ, risk aversion, in 1/(P·Q), > 0 (as γ → 0 the spread tends to 2/κ).
        sigma: σ, volatility of the mid, in P per √second.
        horizon_s: τ, time left or the fixed horizon, in seconds.
        kappa: κ, decay of the fill intensity λ(δ) = A·e^(−κδ) with depth, in 1/P, > 0.

    Returns:
        The total spread around the reservation price, in P.
    """
    # log1p keeps (2/γ)·ln(1 + γ/κ) accurate when γ/κ is tiny (it tends to 2/κ).
    return gamma * sigma * sigma * horizon_s + (2.0 / gamma) * math.log1p(gamma / kappa)


class Horizon(Enum):
    """Where τ comes from."""

    STATIONARY = "stationary"  # τ = horizon_s always (24/7 markets)
    SESSION = "session"  # τ = QuoteInputs.time_remaining_s, at most horizon_s


@dataclass(frozen=True, slots=True, kw_only=True)
class AvellanedaStoikovModel:
    """Avellaneda–Stoikov quotes, bounded, as a multi-level ladder.

    - ``gamma``: risk aversion, in 1/(bps · order), where an order is ``order_size``.
    - ``kappa_per_bps``: fill-intensity decay κ, in 1/bps (``QuoteInputs.
      arrival_kappa_per_bps`` overrides it when a calibrator supplies one).
    - ``horizon_s``: τ in seconds (stationary) or the session length (session).
    - ``horizon``: :class:`Horizon`.
    - ``order_size``: size of the level nearest the touch, in base units; also the
      inventory unit.
    - ``levels``, ``level_spacing_bps``, ``size_decay``: extra levels behind the first,
      ``level_spacing_bps`` apart, each ``size_decay`` times the previous size.
    - ``min_half_spread_bps`` / ``max_half_spread_bps``: bounds on half of ψ, in bps.
    - ``max_skew_bps``: bound on |r − s|, in bps.
    - ``skew``: :class:`InventorySkew` — size skew, one-sided quoting, margin urgency
      (which scales the A–S inventory term) and an optional extra linear price skew.
    """

    gamma: float
    kappa_per_bps: float
    horizon_s: float
    order_size: float
    horizon: Horizon = Horizon.STATIONARY
    levels: int = 1
    level_spacing_bps: float = 2.0
    size_decay: float = 1.0
    min_half_spread_bps: float = 0.5
    max_half_spread_bps: float = 500.0
    max_skew_bps: float = 500.0
    skew: InventorySkew = field(default_factory=InventorySkew)

    def __post_init__(self) -> None:
        require(0 < self.gamma < math.inf, "gamma", "must be > 0 and finite")
        require(0 < self.kappa_per_bps < math.inf, "kappa_per_bps", "must be > 0 and finite")
        require(0 <= self.horizon_s < math.inf, "horizon_s", "must be ≥ 0 and finite")
        require(self.order_size > 0, "order_size", "must be > 0")
        require_ladder_shape(
            levels=self.levels,
            level_spacing_bps=self.level_spacing_bps,
            size_decay=self.size_decay,
            min_half_spread_bps=self.min_half_spread_bps,
            max_half_spread_bps=self.max_half_spread_bps,
            max_skew_bps=self.max_skew_bps,
        )

    def tau(self, inputs: QuoteInputs) -> float:
        """τ in seconds for this snapshot."""
        if self.horizon is Horizon.STATIONARY or inputs.time_remaining_s is None:
            return self.horizon_s
        return clamp(inputs.time_remaining_s, 0.0, self.horizon_s)

    def quote(self, inputs: QuoteInputs) -> RawLadder:
        if not is_quotable(inputs):
            return RawLadder(bids=(), asks=())
        sigma_bps = _finite_non_negative(inputs.volatility) / BPS
        kappa = positive_or(inputs.arrival_kappa_per_bps, self.kappa_per_bps)
        ratio = inventory_ratio(inputs.inventory, inputs.max_inventory)
        margin = inputs.margin_use
        orders = ratio * inputs.max_inventory / self.order_size if inputs.max_inventory > 0 else 0.0
        urgency = 1.0 + self.skew.margin_urgency * clamp(margin, 0.0, 1.0)
        tau = self.tau(inputs)
        # Offsets in bps of the mid: the model's prices are relative, s = 0.
        shift = reservation_price(
            mid=0.0, inventory=orders * urgency, gamma=self.gamma, sigma=sigma_bps, horizon_s=tau
        )
        shift += self.skew.reservation_shift_bps(ratio, margin)
        shift = clamp(shift, -self.max_skew_bps, self.max_skew_bps)
        spread = optimal_spread(gamma=self.gamma, sigma=sigma_bps, horizon_s=tau, kappa=kappa)
        half = clamp(spread / 2.0, self.min_half_spread_bps, self.max_half_spread_bps)
        return ladder_from_depths(
            inputs,
            bid_bps=half - shift,
            ask_bps=half + shift,
            shape=LevelShape(
                levels=self.levels,
                spacing_bps=self.level_spacing_bps,
                order_size=self.order_size,
                size_decay=self.size_decay,
            ),
            skew=self.skew,
        )


def _finite_non_negative(value: float) -> float:
    return value if math.isfinite(value) and value > 0 else 0.0
