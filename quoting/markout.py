"""Adverse-selection defence: markouts of our fills widen the spread, time heals it.

The markout of a fill is how the mid moved ``horizon_s`` after it, from our side and in
bps of the fill price: a buy at 100.00 followed by a mid of 99.95 marks out at −5 bps.

One losing fill is noise; a run of them is someone who knows better picking us off. So
the guard keeps an exponentially weighted markout (each fill's weight halves every
``markout_halflife_s``) and widens only while that average is adverse (worse than
``−loss_threshold_bps``): each fill that loses more than the threshold then adds
``widen_per_loss`` to the widening factor, at most ``max_widening``. Each fill that did
not lose takes ``widen_per_loss`` off again, so when fills stop losing the factor falls
back within a few fills; on top of that the excess over 1 halves every
``recovery_halflife_s``. Without the step down a steady trickle of noisy losses kept the
factor pinned at its cap. The guard is a plain state object: time is passed in with
every call, never read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal

from makerd.protocol.side import Side
from makerd.quoting.base import QuoteInputs, QuoteModel, RawLadder, RawQuote, reads_arrival
from makerd.quoting.ladder import MIN_PRICE_FRACTION
from makerd.quoting.skew import BPS, clamp, require

NS_PER_S = 1_000_000_000
# A factor beyond this is a misconfiguration, not a defence: the quotes would be useless.
MAX_WIDENING_FACTOR = 20.0


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkoutSettings:
    """``horizon_s``, ``markout_halflife_s`` and ``recovery_halflife_s`` in seconds,
    ``loss_threshold_bps`` in bps, ``widen_per_loss`` and ``max_widening`` as
    dimensionless spread factors."""

    horizon_s: float = 5.0
    loss_threshold_bps: float = 1.0
    widen_per_loss: float = 0.25
    max_widening: float = 3.0
    recovery_halflife_s: float = 120.0
    markout_halflife_s: float = 30.0

    def __post_init__(self) -> None:
        require(self.horizon_s > 0, "horizon_s", "must be > 0")
        require(self.loss_threshold_bps >= 0, "loss_threshold_bps", "must be ≥ 0")
        require(self.widen_per_loss >= 0, "widen_per_loss", "must be ≥ 0")
        require(
            1 <= self.max_widening <= MAX_WIDENING_FACTOR,
            "max_widening",
            f"must be within 1..{MAX_WIDENING_FACTOR:g}",
        )
        require(self.recovery_halflife_s > 0, "recovery_halflife_s", "must be > 0")
        require(self.markout_halflife_s > 0, "markout_halflife_s", "must be > 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class _PendingFill:
    sign: int
    price: float
    due_ns: int


class AdverseSelectionGuard:
    """Tracks fills until their markout is known and turns losses into spread widening."""

    def __init__(self, settings: MarkoutSettings) -> None:
        self._settings = settings
        self._horizon_ns = round(settings.horizon_s * NS_PER_S)
        self._pending: list[_PendingFill] = []
        # The earliest horizon among the pending fills: a book before it settles nothing,
        # and a live quoter holds dozens of fills on every one of its 50 books a second.
        self._next_due_ns: int | None = None
        self._excess = 0.0
        # The weighted markout is _weighted_sum / _weight; both decay with time alike.
        self._weighted_sum = 0.0
        self._weight = 0.0
        self._last_ts_ns: int | None = None
        self.measured_fills = 0
        self.losing_fills = 0
        self.last_markout_bps: float | None = None

    def record_fill(self, side: Side, price: float | Decimal, ts_ns: int) -> None:
        """Remember our fill on ``side`` at ``price`` at ``ts_ns`` (nanoseconds)."""
        value = float(price)
        if math.isfinite(value) and value > 0:
            due_ns = ts_ns + self._horizon_ns
            self._pending.append(_PendingFill(sign=side.sign, price=value, due_ns=due_ns))
            if self._next_due_ns is None or due_ns < self._next_due_ns:
                self._next_due_ns = due_ns

    def observe_mid(self, mid: float | Decimal, ts_ns: int) -> float:
        """Settle every fill whose horizon has passed at ``ts_ns``; return the factor (≥ 1)."""
        self._decay_to(ts_ns)
        value = float(mid)
        if not (math.isfinite(value) and value > 0):
            return self.widening
        if self._next_due_ns is None or ts_ns < self._next_due_ns:
            return self.widening
        still_pending = []
        for fill in self._pending:
            if fill.due_ns > ts_ns:
                still_pending.append(fill)
                continue
            markout = fill.sign * (value - fill.price) / fill.price / BPS
            self._settle(markout)
        self._pending = still_pending
        self._next_due_ns = min((fill.due_ns for fill in still_pending), default=None)
        return self.widening

    @property
    def widening(self) -> float:
        """The spread factor as of the last observation: 1 means no widening."""
        return 1.0 + self._excess

    @property
    def weighted_markout_bps(self) -> float | None:
        """The exponentially weighted markout, None before the first fill is measured."""
        return self._weighted_sum / self._weight if self._weight > 0 else None

    def _settle(self, markout_bps: float) -> None:
        self.measured_fills += 1
        self.last_markout_bps = markout_bps
        self._weighted_sum += markout_bps
        self._weight += 1.0
        threshold = self._settings.loss_threshold_bps
        adverse = self._weighted_sum < -threshold * self._weight
        step = self._settings.widen_per_loss
        if markout_bps < -threshold:
            self.losing_fills += 1
            if adverse:
                self._excess = min(self._settings.max_widening - 1.0, self._excess + step)
        else:
            self._excess = max(0.0, self._excess - step)

    def _decay_to(self, ts_ns: int) -> None:
        if self._last_ts_ns is not None and ts_ns > self._last_ts_ns:
            elapsed_s = (ts_ns - self._last_ts_ns) / NS_PER_S
            self._excess *= 0.5 ** (elapsed_s / self._settings.recovery_halflife_s)
            kept = 0.5 ** (elapsed_s / self._settings.markout_halflife_s)
            self._weighted_sum *= kept
            self._weight *= kept
        if self._last_ts_ns is None or ts_ns > self._last_ts_ns:
            self._last_ts_ns = ts_ns


@dataclass(frozen=True, slots=True, kw_only=True)
class WidenedModel:
    """Runs ``inner`` and pushes every price away from the ladder's centre by the factor
    ``QuoteInputs.spread_widening`` (clamped to 1..20): bids only fall, asks only rise, and
    the skew (where the centre sits) is kept."""

    inner: QuoteModel

    @property
    def READS_ARRIVAL(self) -> bool:  # noqa: N802  (the attribute models declare)
        return reads_arrival(self.inner)

    def quote(self, inputs: QuoteInputs) -> RawLadder:
        ladder = self.inner.quote(inputs)
        factor = clamp(inputs.spread_widening, 1.0, MAX_WIDENING_FACTOR)
        if factor == 1.0 or not (ladder.bids or ladder.asks):
            return ladder
        centre = _centre(ladder, inputs.mid)
        return RawLadder(
            bids=_stretched(ladder.bids, centre, factor),
            asks=_stretched(ladder.asks, centre, factor),
        )


def _centre(ladder: RawLadder, mid: float) -> float:
    """Between the best quotes; with one side only, a point that side is not beyond."""
    if ladder.bids and ladder.asks:
        return (ladder.bids[0].price + ladder.asks[0].price) / 2
    if ladder.bids:
        return max(mid, ladder.bids[0].price)
    return min(mid, ladder.asks[0].price)


def _stretched(quotes: tuple[RawQuote, ...], centre: float, factor: float) -> tuple[RawQuote, ...]:
    moved = (replace(quote, price=centre + (quote.price - centre) * factor) for quote in quotes)
    # Far below the centre a bid is pointless and may fall under the smallest tick.
    return tuple(quote for quote in moved if quote.price > centre * MIN_PRICE_FRACTION)
