"""Turn a model's float ladder into exact quotes the exchange will accept.

Every price lands on a tick (bids rounded down, asks up), every size on a lot; a size that
rounds to zero lots is dropped and reported (``size_zero``), and so is a level worth less
than the minimum order (``below_min_notional``): it is never quoted larger than the model
sized it, which would add risk the model did not ask for (the inventory skew shrinks the
growing side's sizes on purpose) and could take one side of the ladder past
``risk.max_position``. Post-only quotes never cross the current book; the best bid stays
strictly below the best ask. Problems are returned, never swallowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache

from makerd.protocol.instrument import Instrument, OrderRuleError
from makerd.protocol.orders import QuoteLevel
from makerd.protocol.side import Side
from makerd.quoting.base import RawLadder, RawQuote

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class LegalQuotes:
    bids: tuple[QuoteLevel, ...]
    asks: tuple[QuoteLevel, ...]
    problems: tuple[str, ...]


def legalize(
    ladder: RawLadder,
    instrument: Instrument,
    *,
    best_bid: Decimal | None,
    best_ask: Decimal | None,
) -> LegalQuotes:
    problems: list[str] = []
    bids = _side(ladder.bids, Side.BUY, instrument, best_ask, problems)
    asks = _side(ladder.asks, Side.SELL, instrument, best_bid, problems)
    if bids and asks and bids[0].price >= asks[0].price:
        problems.append("crossed_ladder")
        ceiling = asks[0].price
        bids = tuple(level for level in bids if level.price < ceiling)
    return LegalQuotes(bids=bids, asks=asks, problems=tuple(problems))


def _side(
    raw: tuple[RawQuote, ...],
    side: Side,
    instrument: Instrument,
    opposite_touch: Decimal | None,
    problems: list[str],
) -> tuple[QuoteLevel, ...]:
    levels: dict[Decimal, Decimal] = {}
    lot = instrument.lot
    for quote in raw:
        raw_price, raw_size = quote.price, quote.size
        if not (math.isfinite(raw_price) and math.isfinite(raw_size)) or raw_price <= 0:
            problems.append("non_finite")
            continue
        if raw_size <= 0:
            continue
        try:
            price = instrument.round_price(Decimal(repr(raw_price)), side)
            price = _behind_touch(price, side, instrument, opposite_touch)
        except OrderRuleError:
            problems.append("below_tick")
            continue
        size = _lots(raw_size, lot)
        if size <= 0:
            problems.append("size_zero")  # an error to report, never a silent skip
            continue
        if size * price < instrument.min_notional:
            problems.append("below_min_notional")  # refused and reported, never raised
            continue
        levels[price] = levels.get(price, ZERO) + size
    ordered = sorted(levels.items(), reverse=side is Side.BUY)
    return tuple(QuoteLevel(price=price, size=size) for price, size in ordered)


@lru_cache(maxsize=1024)
def _lots(size: float, lot: Decimal) -> Decimal:
    """``Instrument.round_size`` of a model's positive size: a level's size comes back
    quote after quote (it scales with the inventory only), so its rounding is kept."""
    return Decimal(repr(size)).quantize(lot, rounding=ROUND_DOWN)


def _behind_touch(
    price: Decimal, side: Side, instrument: Instrument, opposite_touch: Decimal | None
) -> Decimal:
    """Keep a post-only price one tick behind the opposite touch so it cannot cross."""
    if opposite_touch is None:
        return price
    if side is Side.BUY and price >= opposite_touch:
        # The tick just below the touch may be finer than the touch's own (99999 -> 9999.9).
        below = opposite_touch - instrument.tick_at(
            opposite_touch - instrument.tick_at(opposite_touch) / 10
        )
        return instrument.round_price(below, side)
    if side is Side.SELL and price <= opposite_touch:
        return instrument.round_price(opposite_touch + instrument.tick_at(opposite_touch), side)
    return price
