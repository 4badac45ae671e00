"""Inventory skew of prices and sizes, shared by every model.

A long position makes the quotes cheaper (the reference moves down, so the ask is more
likely to trade) and shrinks the bids (so the position grows more slowly); a short position
is the mirror image. Urgency grows with the share of the inventory limit in use and with
the share of margin in use; past ``one_sided_at`` the side that would grow the position is
not quoted at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BPS = 1e-4


@dataclass(frozen=True, slots=True, kw_only=True)
class SideScales:
    """Multipliers (0..1) applied to every bid and every ask size."""

    bid: float
    ask: float


@dataclass(frozen=True, slots=True, kw_only=True)
class InventorySkew:
    """How inventory bends the ladder.

    - ``price_skew_bps``: reference-price shift at full urgency, in basis points of the mid
      (additive to a model's own inventory term).
    - ``size_skew``: fraction (0..1) by which the growing side's sizes shrink at full urgency.
    - ``one_sided_at``: inventory ratio (0..1 of ``max_inventory``) past which the growing
      side is withdrawn.
    - ``urgency_exponent``: urgency is ``|inventory ratio| ** urgency_exponent`` (> 0; 1 is
      linear, 2 is gentle near flat and steep near the limit).
    - ``margin_urgency``: extra urgency per unit of margin use (0..1), dimensionless.
    """

    price_skew_bps: float = 0.0
    size_skew: float = 1.0
    one_sided_at: float = 0.8
    urgency_exponent: float = 1.0
    margin_urgency: float = 0.0

    def __post_init__(self) -> None:
        require(self.price_skew_bps >= 0, "price_skew_bps", "must be ≥ 0")
        require(0 <= self.size_skew <= 1, "size_skew", "must be within 0..1")
        require(0 < self.one_sided_at <= 1, "one_sided_at", "must be within (0, 1]")
        require(self.urgency_exponent > 0, "urgency_exponent", "must be > 0")
        require(self.margin_urgency >= 0, "margin_urgency", "must be ≥ 0")

    def urgency(self, ratio: float, margin_use: float) -> float:
        """Non-negative urgency: 0 when flat, 1 at the limit with no margin pressure."""
        margin = clamp(margin_use, 0.0, 1.0)
        return math.pow(abs(ratio), self.urgency_exponent) * (1.0 + self.margin_urgency * margin)

    def reservation_shift_bps(self, ratio: float, margin_use: float) -> float:
        """Signed shift of the reference price in bps: negative when long."""
        return -math.copysign(1.0, ratio) * self.price_skew_bps * self.urgency(ratio, margin_use)

    def size_scales(self, ratio: float, margin_use: float) -> SideScales:
        """Shrink the side that would grow the position; withdraw it past ``one_sided_at``."""
        shrink = clamp(1.0 - self.size_skew * self.urgency(ratio, margin_use), 0.0, 1.0)
        if ratio > 0:
            return SideScales(bid=0.0 if ratio >= self.one_sided_at else shrink, ask=1.0)
        if ratio < 0:
            return SideScales(bid=1.0, ask=0.0 if -ratio >= self.one_sided_at else shrink)
        return SideScales(bid=1.0, ask=1.0)


def inventory_ratio(inventory: float, max_inventory: float) -> float:
    """Signed share of the inventory limit in use, clamped to -1..1 (NaN counts as flat)."""
    if not math.isfinite(inventory):
        return 0.0 if math.isnan(inventory) else math.copysign(1.0, inventory)
    if max_inventory <= 0 or not math.isfinite(max_inventory):
        # No usable limit: any position counts as a full one, so the bot reduces it.
        return 0.0 if inventory == 0 else math.copysign(1.0, inventory)
    return clamp(inventory / max_inventory, -1.0, 1.0)


def clamp(value: float, low: float, high: float) -> float:
    """``value`` limited to ``low..high``; NaN becomes ``low``."""
    if math.isnan(value):
        return low
    return max(low, min(high, value))


def require(condition: bool, parameter: str, problem: str) -> None:
    """Raise ``ValueError("<parameter>: <problem>")`` unless ``condition`` holds."""
    if not condition:
        raise ValueError(f"{parameter}: {problem}")


def require_ladder_shape(
    *,
    levels: int,
    level_spacing_bps: float,
    size_decay: float,
    min_half_spread_bps: float,
    max_half_spread_bps: float,
    max_skew_bps: float,
) -> None:
    """The bounds every closed-form model's ladder shares (A–S, GLFT)."""
    require(1 <= levels <= 50, "levels", "must be within 1..50")
    require(level_spacing_bps > 0, "level_spacing_bps", "must be > 0")
    require(0 < size_decay <= 1, "size_decay", "must be within (0, 1]")
    require(min_half_spread_bps > 0, "min_half_spread_bps", "must be > 0")
    require(
        min_half_spread_bps <= max_half_spread_bps < 5000,
        "max_half_spread_bps",
        "must be within min_half_spread_bps..5000",
    )
    require(0 <= max_skew_bps < 5000, "max_skew_bps", "must be within 0..5000")
