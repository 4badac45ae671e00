"""A symmetric multi-level ladder around the mid, skewed by inventory.

Level ``i`` (0-based) sits ``first_level_bps + i * level_spacing_bps`` from a reservation
price that moves against the inventory by ``inventory_skew_bps`` at full inventory; sizes
shrink on the side that would grow the position. Past ``one_sided_at`` of the maximum
inventory, the side that would grow it is not quoted at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from makerd.quoting.base import QuoteInputs, RawLadder, RawQuote

BPS = 1e-4


@dataclass(frozen=True, slots=True, kw_only=True)
class SymmetricLadder:
    READS_ARRIVAL: ClassVar[bool] = False

    levels: int
    first_level_bps: float
    level_spacing_bps: float
    order_size: float
    size_decay: float = 1.0
    inventory_skew_bps: float = 0.0
    one_sided_at: float = 0.8

    def quote(self, inputs: QuoteInputs) -> RawLadder:
        if inputs.max_inventory > 0:
            fill_ratio = _clamp(inputs.inventory / inputs.max_inventory, -1.0, 1.0)
        else:  # no room at all: any position counts as full
            fill_ratio = 0.0 if inputs.inventory == 0 else math.copysign(1.0, inputs.inventory)
        reservation = inputs.mid * (1.0 - fill_ratio * self.inventory_skew_bps * BPS)
        # Long inventory: smaller bids, full asks (and the mirror for short).
        bid_scale = 1.0 - max(fill_ratio, 0.0)
        ask_scale = 1.0 + min(fill_ratio, 0.0)
        bids = []
        asks = []
        for level in range(self.levels):
            offset = (self.first_level_bps + level * self.level_spacing_bps) * BPS
            size = self.order_size * self.size_decay**level
            bids.append(RawQuote(price=reservation * (1.0 - offset), size=size * bid_scale))
            asks.append(RawQuote(price=reservation * (1.0 + offset), size=size * ask_scale))
        if fill_ratio >= self.one_sided_at:
            bids = []
        if fill_ratio <= -self.one_sided_at:
            asks = []
        return RawLadder(bids=tuple(bids), asks=tuple(asks))


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
