"""What a quoting model sees and what it returns.

Models work in floats (they are statistics); :mod:`quoting.legalize` turns their output
into exact, exchange-legal prices and sizes. No clock, no I/O, no actor imports here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteInputs:
    """A snapshot of everything a model may use, in plain units.

    ``volatility`` is the standard deviation of mid log-returns per square-root second;
    ``inventory`` and ``max_inventory`` are in base units (signed / positive).

    Optional, for the models that use them: ``time_remaining_s`` (seconds left in a
    finite trading session), ``margin_use`` (used / available margin, 0..1),
    ``tick_size`` (the price step near the mid, in price units), ``arrival_a_per_s`` and
    ``arrival_kappa_per_bps`` (a calibrated fill intensity λ(δ) = A·e^(−κδ) overriding the
    configured one) and ``spread_widening`` (≥ 1, from the adverse-selection guard).
    """

    mid: float
    best_bid: float | None
    best_ask: float | None
    bid_size_top: float
    ask_size_top: float
    inventory: float
    max_inventory: float
    volatility: float
    time_remaining_s: float | None = None
    margin_use: float = 0.0
    tick_size: float | None = None
    arrival_a_per_s: float | None = None
    arrival_kappa_per_bps: float | None = None
    spread_widening: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RawQuote:
    price: float
    size: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RawLadder:
    """Levels best first: bids descending, asks ascending."""

    bids: tuple[RawQuote, ...]
    asks: tuple[RawQuote, ...]


class QuoteModel(Protocol):
    def quote(self, inputs: QuoteInputs) -> RawLadder: ...


def reads_arrival(model: QuoteModel) -> bool:
    """Whether ``model`` reads the calibrated arrival (``arrival_a_per_s``,
    ``arrival_kappa_per_bps``). A model says it does not with ``READS_ARRIVAL = False``;
    one that says nothing is taken to read it. The quoter fits the arrival only for a
    model that reads it: the fit is the costliest part of a quote that ignores it."""
    return bool(getattr(model, "READS_ARRIVAL", True))
