"""Guéant–Lehalle–Fernandez-Tapia closed-form approximation, as hftbacktest uses it.

Guéant, Lehalle and Fernandez-Tapia (2013) solve the inventory-constrained market-making
problem; Guéant (2017, "Optimal market making", eq. 4.6-4.7) gives the asymptotic quotes

    δ_bid(q) ≈ c1 + (Δ/2)·σ·c2 + q·σ·c2
    δ_ask(q) ≈ c1 + (Δ/2)·σ·c2 − q·σ·c2

where, for fills at depth δ with intensity λ(δ) = A·e^(−κδ) and orders of size Δ,

    c1 = ln(1 + ξΔ/κ) / (ξΔ)
    c2 = √( γ / (2·A·Δ·κ) · (1 + ξΔ/κ)^(κ/(ξΔ) + 1) )

c1 is the pure liquidity-provision half-spread (what remains with no volatility); c2·σ is
the price of one unit of inventory risk. ξ = γ gives the model "A" of the paper (the
utility-maximising case); ξ = 0 would be the risk-neutral "B" case (not offered here, as
its c1 degenerates to 1/κ). Half-spread = c1 + (Δ/2)·σ·c2 and skew = σ·c2, so
δ_bid = half-spread + skew·q and δ_ask = half-spread − skew·q.

:class:`GlftModel` measures depth in bps of the mid (σ in bps/√s, κ in 1/bps), A per
second and inventory in orders of ``order_size`` (so Δ = 1), as hftbacktest does with ticks
and lots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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

# exp() beyond this overflows a float; c2 is then "effectively infinite" and clamped later.
_MAX_EXPONENT = 700.0


def glft_coefficients(
    *, gamma: float, kappa: float, arrival_a: float, order_size: float, xi: float | None = None
) -> tuple[float, float]:
    """The GLFT constants ``(c1, c2)``.

    Args:
        gamma: γ, risk aversion, in 1/(P·Q) (P a price unit, Q an inventory unit), > 0.
        kappa: κ, decay of the fill intensity with depth, in 1/P, > 0.
        arrival_a: A, fill intensity at zero depth, in fills per second, > 0.
        order_size: Δ, the size of one quote, in Q, > 0.
        xi: ξ, in 1/(P·Q); defaults to γ (model A of Guéant 2017).

    Returns:
        c1 in P; c2 in √s·P/(P·√s) per Q — so that σ·c2 (σ in P/√s) is a depth in P per Q.
    """
    xi_delta = (gamma if xi is None else xi) * order_size
    log_term = math.log1p(xi_delta / kappa)
    c1 = log_term / xi_delta
    exponent = min((kappa / xi_delta + 1.0) * log_term, _MAX_EXPONENT)
    c2 = math.sqrt(gamma / (2.0 * arrival_a * order_size * kappa) * math.exp(exponent))
    return c1, c2


def glft_half_spread_and_skew(
    *,
    gamma: float,
    kappa: float,
    arrival_a: float,
    sigma: float,
    order_size: float,
    xi: float | None = None,
) -> tuple[float, float]:
    """GLFT ``(half_spread, skew)``: δ_bid = half + skew·q, δ_ask = half − skew·q.

    Args:
        gamma: γ, risk aversion, in 1/(P·Q), > 0.
        kappa: κ, fill-intensity decay with depth, in 1/P, > 0.
        arrival_a: A, fill intensity at zero depth, in fills per second, > 0.
        sigma: σ, volatility of the mid, in P per √second, ≥ 0.
        order_size: Δ, the size of one quote, in Q, > 0.
        xi: ξ, in 1/(P·Q); defaults to γ.

    Returns:
        half_spread in P; skew in P per Q of inventory.
    """
    c1, c2 = glft_coefficients(
        gamma=gamma, kappa=kappa, arrival_a=arrival_a, order_size=order_size, xi=xi
    )
    if sigma == 0:  # c2 may be infinite for extreme κ or A; no volatility means no risk term
        return c1, 0.0
    return c1 + order_size / 2.0 * sigma * c2, sigma * c2


@dataclass(frozen=True, slots=True, kw_only=True)
class GlftModel:
    """GLFT quotes, bounded, as a multi-level ladder.

    - ``gamma``: risk aversion γ (= ξ), in 1/(bps · order), an order being ``order_size``.
    - ``kappa_per_bps``: κ in 1/bps; ``arrival_a_per_s``: A in fills per second. Calibrated
      values in ``QuoteInputs`` override both.
    - ``order_size``: base units per order; the inventory unit (Δ = 1 order).
    - ``spread_scale`` / ``skew_scale``: dimensionless multipliers on the half-spread and the
      skew (hftbacktest's ``adj1`` / ``adj2``).
    - ``levels``, ``level_spacing_bps``, ``size_decay``: the levels behind the first.
    - ``min_half_spread_bps`` / ``max_half_spread_bps``, ``max_skew_bps``: bounds, in bps.
    - ``skew``: :class:`InventorySkew` (size skew, one-sided quoting, margin urgency which
      scales the GLFT skew, optional extra linear price skew).
    """

    gamma: float
    kappa_per_bps: float
    arrival_a_per_s: float
    order_size: float
    spread_scale: float = 1.0
    skew_scale: float = 1.0
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
        require(0 < self.arrival_a_per_s < math.inf, "arrival_a_per_s", "must be > 0 and finite")
        require(self.order_size > 0, "order_size", "must be > 0")
        require(self.spread_scale > 0, "spread_scale", "must be > 0")
        require(self.skew_scale >= 0, "skew_scale", "must be ≥ 0")
        require_ladder_shape(
            levels=self.levels,
            level_spacing_bps=self.level_spacing_bps,
            size_decay=self.size_decay,
            min_half_spread_bps=self.min_half_spread_bps,
            max_half_spread_bps=self.max_half_spread_bps,
            max_skew_bps=self.max_skew_bps,
        )

    def quote(self, inputs: QuoteInputs) -> RawLadder:
        if not is_quotable(inputs):
            return RawLadder(bids=(), asks=())
        sigma = inputs.volatility
        sigma_bps = sigma / BPS if math.isfinite(sigma) and sigma > 0 else 0.0
        half, skew_per_order = glft_half_spread_and_skew(
            gamma=self.gamma,
            kappa=positive_or(inputs.arrival_kappa_per_bps, self.kappa_per_bps),
            arrival_a=positive_or(inputs.arrival_a_per_s, self.arrival_a_per_s),
            sigma=sigma_bps,
            order_size=1.0,
        )
        ratio = inventory_ratio(inputs.inventory, inputs.max_inventory)
        orders = ratio * max(inputs.max_inventory, 0.0) / self.order_size
        urgency = 1.0 + self.skew.margin_urgency * clamp(inputs.margin_use, 0.0, 1.0)
        lean = _product(self.skew_scale, skew_per_order, orders, urgency)
        lean -= self.skew.reservation_shift_bps(ratio, inputs.margin_use)
        lean = clamp(lean, -self.max_skew_bps, self.max_skew_bps)
        half = clamp(self.spread_scale * half, self.min_half_spread_bps, self.max_half_spread_bps)
        return ladder_from_depths(
            inputs,
            bid_bps=half + lean,
            ask_bps=half - lean,
            shape=LevelShape(
                levels=self.levels,
                spacing_bps=self.level_spacing_bps,
                order_size=self.order_size,
                size_decay=self.size_decay,
            ),
            skew=self.skew,
        )


def _product(*factors: float) -> float:
    """The product, but 0 when any factor is 0: 0·inf (c2 unbounded) must not become NaN."""
    if any(factor == 0 for factor in factors):
        return 0.0
    return math.prod(factors)
