"""Book signals that move the reference price away from the plain mid, within a bound.

The microprice weighs each touch by the size resting on the *other* side: a thin ask and
a thick bid mean the next trade is more likely up, so the fair price sits nearer the ask.
Top-of-book imbalance says the same thing in a scale-free number (-1..1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from makerd.quoting.base import QuoteInputs, QuoteModel, RawLadder, reads_arrival
from makerd.quoting.skew import BPS, clamp, require


def microprice(best_bid: float, best_ask: float, bid_size: float, ask_size: float) -> float:
    """Size-weighted mid ``(bid·ask_size + ask·bid_size) / (bid_size + ask_size)``.

    Prices in any price unit; sizes in any common size unit. With no size on either side
    it is the plain mid.
    """
    total = bid_size + ask_size
    if not total > 0:
        return (best_bid + best_ask) / 2
    return (best_bid * ask_size + best_ask * bid_size) / total


def imbalance(bid_size: float, ask_size: float) -> float:
    """Top-of-book imbalance ``(bid_size − ask_size) / (bid_size + ask_size)`` in -1..1."""
    total = bid_size + ask_size
    if not total > 0:
        return 0.0
    return clamp((bid_size - ask_size) / total, -1.0, 1.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class BookSignal:
    """How far the book may pull the reference price from the mid.

    - ``microprice_weight``: 0..1, the share of the way from mid to microprice.
    - ``imbalance_shift_bps``: shift at full imbalance (all size on one side), in bps.
    - ``max_signal_shift_bps``: bound on the combined shift, in bps of the mid.
    """

    microprice_weight: float = 0.0
    imbalance_shift_bps: float = 0.0
    max_signal_shift_bps: float = 5.0

    def __post_init__(self) -> None:
        require(0 <= self.microprice_weight <= 1, "microprice_weight", "must be within 0..1")
        require(self.imbalance_shift_bps >= 0, "imbalance_shift_bps", "must be ≥ 0")
        require(self.max_signal_shift_bps >= 0, "max_signal_shift_bps", "must be ≥ 0")

    @property
    def is_active(self) -> bool:
        return self.microprice_weight > 0 or self.imbalance_shift_bps > 0

    def reference_price(self, inputs: QuoteInputs) -> float:
        """The mid moved toward the side the book leans to, by at most the bound."""
        mid = inputs.mid
        if inputs.best_bid is None or inputs.best_ask is None:
            return mid  # one empty side: the book says nothing reliable about direction
        bid_size = max(inputs.bid_size_top, 0.0)
        ask_size = max(inputs.ask_size_top, 0.0)
        fair = microprice(inputs.best_bid, inputs.best_ask, bid_size, ask_size)
        shift_bps = self.microprice_weight * (fair - mid) / mid / BPS
        shift_bps += self.imbalance_shift_bps * imbalance(bid_size, ask_size)
        if not math.isfinite(shift_bps):
            return mid
        bound = self.max_signal_shift_bps
        return mid * (1.0 + clamp(shift_bps, -bound, bound) * BPS)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalAdjustedModel:
    """Runs ``inner`` with the mid replaced by the signal's reference price."""

    inner: QuoteModel
    signal: BookSignal

    @property
    def READS_ARRIVAL(self) -> bool:  # noqa: N802  (the attribute models declare)
        return reads_arrival(self.inner)

    def quote(self, inputs: QuoteInputs) -> RawLadder:
        return self.inner.quote(replace(inputs, mid=self.signal.reference_price(inputs)))
