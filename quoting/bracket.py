"""Bracket mode: after a fill, a reduce-only take-profit and stop-loss around the entry.

Pure arithmetic on exact prices: the actor decides when to place, replace or cancel the
pair (Hyperliquid triggers TP/SL on the mark price and rejects non-reduce-only TP/SL).
Both orders close the position, so both are on the side opposite the fill. Trigger
prices are rounded onto legal ticks in the closing side's passive direction, which moves
the take-profit away from the entry (never less profit than asked) and the stop-loss
toward it (never more loss than asked); each limit price sits ``limit_slippage_bps`` beyond
its trigger so the order still executes after the mark has run through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from makerd.protocol.instrument import Instrument
from makerd.protocol.side import Side
from makerd.quoting.skew import require

BPS = Decimal("0.0001")


@dataclass(frozen=True, slots=True, kw_only=True)
class BracketSettings:
    """Distances from the entry in bps; ``limit_slippage_bps`` is how far past its
    trigger each order's limit price sits (Hyperliquid market TP/SL use 10% = 1000 bps)."""

    take_profit_bps: Decimal
    stop_loss_bps: Decimal
    limit_slippage_bps: Decimal = Decimal(50)

    def __post_init__(self) -> None:
        require(0 < self.take_profit_bps < 10_000, "take_profit_bps", "must be within (0, 10000)")
        require(0 < self.stop_loss_bps < 10_000, "stop_loss_bps", "must be within (0, 10000)")
        require(
            0 <= self.limit_slippage_bps < 10_000,
            "limit_slippage_bps",
            "must be within [0, 10000)",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BracketOrder:
    """One reduce-only trigger order: fires when the mark reaches ``trigger_price``."""

    side: Side
    size: Decimal
    trigger_price: Decimal
    limit_price: Decimal
    kind: str  # "tp" or "sl", as Hyperliquid's ``tpsl`` field spells it


@dataclass(frozen=True, slots=True, kw_only=True)
class Bracket:
    take_profit: BracketOrder
    stop_loss: BracketOrder


def compute_bracket(
    *,
    fill_side: Side,
    entry_price: Decimal,
    size: Decimal,
    instrument: Instrument,
    settings: BracketSettings,
) -> Bracket:
    """The take-profit and stop-loss that close a ``size`` fill on ``fill_side``.

    Raises ``ValueError`` for a non-positive entry price or a size that is not on a lot.
    """
    require(entry_price > 0, "entry_price", "must be > 0")
    require(
        instrument.is_valid_size(size), "size", f"must be a positive multiple of {instrument.lot}"
    )
    closing = fill_side.opposite
    # +1 when the position profits from a rise (a buy fill), -1 otherwise.
    direction = fill_side.sign
    take_profit = _trigger(
        entry_price * (1 + direction * settings.take_profit_bps * BPS), closing, instrument
    )
    stop_loss = _trigger(
        entry_price * (1 - direction * settings.stop_loss_bps * BPS), closing, instrument
    )
    if stop_loss == entry_price:  # rounding toward the entry must not put the stop on it
        stop_loss = _step_away(stop_loss, -direction, instrument)
    if take_profit == entry_price:
        take_profit = _step_away(take_profit, direction, instrument)
    return Bracket(
        take_profit=_order(
            "tp",
            closing=closing,
            size=size,
            trigger=take_profit,
            settings=settings,
            instrument=instrument,
        ),
        stop_loss=_order(
            "sl",
            closing=closing,
            size=size,
            trigger=stop_loss,
            settings=settings,
            instrument=instrument,
        ),
    )


def _trigger(price: Decimal, closing: Side, instrument: Instrument) -> Decimal:
    return instrument.round_price(price, closing)


def _step_away(price: Decimal, direction: int, instrument: Instrument) -> Decimal:
    tick = instrument.tick_at(price)
    side = Side.SELL if direction > 0 else Side.BUY
    return instrument.round_price(price + direction * tick, side)


def _order(
    kind: str,
    *,
    closing: Side,
    size: Decimal,
    trigger: Decimal,
    settings: BracketSettings,
    instrument: Instrument,
) -> BracketOrder:
    # The limit is worse than the trigger for us (lower for a sell) so the order can fill
    # after triggering; rounded the aggressive way so the slippage allowance is not shrunk.
    slip = 1 + closing.sign * settings.limit_slippage_bps * BPS
    aggressive = closing.opposite
    limit = instrument.round_price(trigger * slip, aggressive)
    return BracketOrder(
        side=closing, size=size, trigger_price=trigger, limit_price=limit, kind=kind
    )
