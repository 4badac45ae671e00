"""Multi-level ladders: the shared builder and three distance schedules.

Distances are measured from a reference price (the mid moved by the inventory skew) in
basis points of the mid or in ticks. ``GeometricLadder`` spaces levels geometrically
between a minimum and a maximum distance and stretches the whole ladder when volatility
rises; ``LinearLadder`` puts the first level at a fixed distance plus a multiple of
volatility and steps evenly (a fixed-spread ladder when the multiple is 0);
``GridLadder`` places orders on fixed grid lines that do not move with every tick of the
mid. Sizes decay by ``size_decay`` per level away from the touch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import ClassVar

from makerd.quoting.base import QuoteInputs, RawLadder, RawQuote
from makerd.quoting.skew import BPS, InventorySkew, SideScales, clamp, inventory_ratio, require

SIGNIFICANT_FIGURES = 5
# A reference more than half the price away from the mid is a bug upstream, not a quote.
MAX_REFERENCE_SHIFT_BPS = 5000.0
# Bids below this share of the reference are dropped: nobody fills them, and near zero they
# fall under the smallest tick, which the rounding path refuses.
MIN_PRICE_FRACTION = 0.05


class DistanceUnit(Enum):
    """How a configured distance is measured."""

    BPS = "bps"
    TICKS = "ticks"


def significant_figure_tick(price: float) -> float:
    """Hyperliquid's price step at ``price`` from its five-significant-figure rule.

    The instrument's decimal cap can make the real tick coarser for cheap coins; pass the
    real one in ``QuoteInputs.tick_size`` when it is known.
    """
    return float(10.0 ** (math.floor(math.log10(price)) - (SIGNIFICANT_FIGURES - 1)))


def distance_fraction(distance: float, unit: DistanceUnit, inputs: QuoteInputs) -> float:
    """A distance in ``unit`` as a fraction of the mid."""
    if unit is DistanceUnit.BPS:
        return distance * BPS
    tick = inputs.tick_size or significant_figure_tick(inputs.mid)
    return distance * tick / inputs.mid


def geometric_distances(levels: int, nearest: float, farthest: float) -> tuple[float, ...]:
    """``levels`` distances from ``nearest`` to ``farthest`` with a constant ratio."""
    if levels == 1:
        return (nearest,)
    ratio = (farthest / nearest) ** (1.0 / (levels - 1))
    return tuple(nearest * ratio**level for level in range(levels))


def level_sizes(levels: int, order_size: float, size_decay: float) -> tuple[float, ...]:
    """``order_size`` at the touch, multiplied by ``size_decay`` per level outward."""
    return tuple(order_size * size_decay**level for level in range(levels))


def positive_or(value: float | None, default: float) -> float:
    """``value`` when it is a positive finite number (e.g. a calibrated one), else ``default``."""
    if value is not None and math.isfinite(value) and value > 0:
        return value
    return default


def is_quotable(inputs: QuoteInputs) -> bool:
    """Whether the snapshot has a usable mid (positive and finite)."""
    return math.isfinite(inputs.mid) and inputs.mid > 0


def shifted_reference(mid: float, shift_bps: float) -> float:
    """The mid moved by ``shift_bps`` (bounded so the reference stays positive)."""
    bound = MAX_REFERENCE_SHIFT_BPS
    return mid * (1.0 + clamp(shift_bps, -bound, bound) * BPS)


def side_quotes(
    prices: Sequence[float], sizes: Sequence[float], scale: float, *, reference: float
) -> tuple[RawQuote, ...]:
    """Pair prices with scaled sizes, dropping levels that cannot sensibly be quoted."""
    if not scale > 0:
        return ()
    floor = reference * MIN_PRICE_FRACTION
    return tuple(
        RawQuote(price=price, size=size * scale)
        for price, size in zip(prices, sizes, strict=True)
        if math.isfinite(price) and price > floor and size > 0
    )


def build_ladder(
    *,
    reference: float,
    bid_distances: Sequence[float],
    ask_distances: Sequence[float],
    sizes: Sequence[float],
    scales: SideScales,
) -> RawLadder:
    """Bids at ``reference·(1 − d)`` and asks at ``reference·(1 + d)`` (d a fraction)."""
    bid_prices = [reference * (1.0 - distance) for distance in bid_distances]
    ask_prices = [reference * (1.0 + distance) for distance in ask_distances]
    return RawLadder(
        bids=side_quotes(bid_prices, sizes, scales.bid, reference=reference),
        asks=side_quotes(ask_prices, sizes, scales.ask, reference=reference),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelShape:
    """Levels behind the first: ``spacing_bps`` apart, sizes decaying by ``size_decay``."""

    levels: int
    spacing_bps: float
    order_size: float
    size_decay: float


def ladder_from_depths(
    inputs: QuoteInputs,
    *,
    bid_bps: float,
    ask_bps: float,
    shape: LevelShape,
    skew: InventorySkew,
) -> RawLadder:
    """A ladder whose first bid is ``bid_bps`` below the mid and first ask ``ask_bps`` above.

    This is how the closed-form models (which produce one bid and one ask depth) become a
    ladder; the inventory skew decides the size of each side.
    """
    ratio = inventory_ratio(inputs.inventory, inputs.max_inventory)
    offsets = [level * shape.spacing_bps for level in range(shape.levels)]
    return build_ladder(
        reference=inputs.mid,
        bid_distances=[(bid_bps + offset) * BPS for offset in offsets],
        ask_distances=[(ask_bps + offset) * BPS for offset in offsets],
        sizes=level_sizes(shape.levels, shape.order_size, shape.size_decay),
        scales=skew.size_scales(ratio, inputs.margin_use),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _LadderCommon:
    READS_ARRIVAL: ClassVar[bool] = False

    levels: int
    order_size: float
    size_decay: float = 1.0
    unit: DistanceUnit = DistanceUnit.BPS
    skew: InventorySkew = field(default_factory=InventorySkew)

    def _check_common(self) -> None:
        require(1 <= self.levels <= 50, "levels", "must be within 1..50")
        require(self.order_size > 0, "order_size", "must be > 0")
        require(0 < self.size_decay <= 1, "size_decay", "must be within (0, 1]")

    def _reference_and_scales(self, inputs: QuoteInputs) -> tuple[float, SideScales]:
        ratio = inventory_ratio(inputs.inventory, inputs.max_inventory)
        shift = self.skew.reservation_shift_bps(ratio, inputs.margin_use)
        return shifted_reference(inputs.mid, shift), self.skew.size_scales(ratio, inputs.margin_use)


@dataclass(frozen=True, slots=True, kw_only=True)
class GeometricLadder(_LadderCommon):
    """Levels from ``min_distance`` to ``max_distance`` (in ``unit``) with a constant ratio.

    When ``reference_volatility_bps`` (bps per √s) is positive, every distance is multiplied
    by ``σ / reference_volatility`` clamped to ``1..max_volatility_scale``: calm markets
    keep the configured ladder, volatile ones stretch it.
    """

    min_distance: float
    max_distance: float
    reference_volatility_bps: float = 0.0
    max_volatility_scale: float = 4.0

    def __post_init__(self) -> None:
        self._check_common()
        require(self.min_distance > 0, "min_distance", "must be > 0")
        require(self.max_distance >= self.min_distance, "max_distance", "must be ≥ min_distance")
        require(self.reference_volatility_bps >= 0, "reference_volatility_bps", "must be ≥ 0")
        require(self.max_volatility_scale >= 1, "max_volatility_scale", "must be ≥ 1")

    def volatility_scale(self, volatility: float) -> float:
        """How much the ladder stretches at ``volatility`` (fraction per √s)."""
        if self.reference_volatility_bps == 0:
            return 1.0
        ratio = volatility / (self.reference_volatility_bps * BPS)
        return clamp(ratio, 1.0, self.max_volatility_scale)

    def quote(self, inputs: QuoteInputs) -> RawLadder:
        if not is_quotable(inputs):
            return RawLadder(bids=(), asks=())
        reference, scales = self._reference_and_scales(inputs)
        stretch = self.volatility_scale(inputs.volatility)
        distances = [
            distance_fraction(distance * stretch, self.unit, inputs)
            for distance in geometric_distances(self.levels, self.min_distance, self.max_distance)
        ]
        return build_ladder(
            reference=reference,
            bid_distances=distances,
            ask_distances=distances,
            sizes=level_sizes(self.levels, self.order_size, self.size_decay),
            scales=scales,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LinearLadder(_LadderCommon):
    """First level at ``base_distance + volatility_multiplier·σ·√volatility_horizon_s``.

    ``base_distance`` and ``level_step`` are in ``unit``; σ is converted to the same unit;
    ``volatility_multiplier`` is dimensionless. With a multiplier of 0 this is a plain
    fixed-spread ladder.
    """

    base_distance: float
    level_step: float
    volatility_multiplier: float = 0.0
    volatility_horizon_s: float = 1.0

    def __post_init__(self) -> None:
        self._check_common()
        require(self.base_distance > 0, "base_distance", "must be > 0")
        require(self.level_step > 0, "level_step", "must be > 0")
        require(self.volatility_multiplier >= 0, "volatility_multiplier", "must be ≥ 0")
        require(self.volatility_horizon_s > 0, "volatility_horizon_s", "must be > 0")

    def quote(self, inputs: QuoteInputs) -> RawLadder:
        if not is_quotable(inputs):
            return RawLadder(bids=(), asks=())
        reference, scales = self._reference_and_scales(inputs)
        sigma = max(inputs.volatility, 0.0) if math.isfinite(inputs.volatility) else 0.0
        volatility_term = self.volatility_multiplier * sigma * math.sqrt(self.volatility_horizon_s)
        first = distance_fraction(self.base_distance, self.unit, inputs) + volatility_term
        step = distance_fraction(self.level_step, self.unit, inputs)
        distances = [first + level * step for level in range(self.levels)]
        return build_ladder(
            reference=reference,
            bid_distances=distances,
            ask_distances=distances,
            sizes=level_sizes(self.levels, self.order_size, self.size_decay),
            scales=scales,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class GridLadder(_LadderCommon):
    """Orders on grid lines ``k·step`` at least ``min_distance`` from the reference.

    With ``unit`` = ticks the lines stay put while the mid wanders (fewer modifications);
    in bps the step follows the mid, so the lines drift with it.
    """

    step: float
    min_distance: float = 0.0

    def __post_init__(self) -> None:
        self._check_common()
        require(self.step > 0, "step", "must be > 0")
        require(self.min_distance >= 0, "min_distance", "must be ≥ 0")

    def quote(self, inputs: QuoteInputs) -> RawLadder:
        if not is_quotable(inputs):
            return RawLadder(bids=(), asks=())
        reference, scales = self._reference_and_scales(inputs)
        step_price = distance_fraction(self.step, self.unit, inputs) * inputs.mid
        gap = distance_fraction(self.min_distance, self.unit, inputs) * inputs.mid
        # Strictly beyond reference ± gap, so a reference on a line never gets both sides.
        first_bid_line = math.ceil((reference - gap) / step_price) - 1
        first_ask_line = math.floor((reference + gap) / step_price) + 1
        sizes = level_sizes(self.levels, self.order_size, self.size_decay)
        bids = [(first_bid_line - level) * step_price for level in range(self.levels)]
        asks = [(first_ask_line + level) * step_price for level in range(self.levels)]
        return RawLadder(
            bids=side_quotes(bids, sizes, scales.bid, reference=reference),
            asks=side_quotes(asks, sizes, scales.ask, reference=reference),
        )
