"""Hyperliquid's order checks and the exact texts it answers with.

The texts are Hyperliquid's own (its documented error responses), so code and operators
see the same strings from paper and live venues. The local venue answers with these same
checks and texts (plus the `` asset=<id>`` suffix), so paper cannot drift from it.
"""

from __future__ import annotations

from decimal import Decimal

from makerd.protocol.instrument import Instrument, OrderRuleError
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side

TICK_TEXT = "Price must be divisible by tick size."
INVALID_SIZE_TEXT = "Order has invalid size."
ZERO_SIZE_TEXT = "Order has zero size."
REDUCE_ONLY_TEXT = "Reduce only order would increase position."
IOC_NO_MATCH_TEXT = "Order could not immediately match against any resting orders."
CANCEL_MISSING_TEXT = "Order was never placed, already canceled, or filled."
MODIFY_MISSING_TEXT = "Cannot modify canceled or filled order"
DUPLICATE_CLOID_TEXT = "Duplicate cloid: an order with this cloid is already resting."
INSUFFICIENT_MARGIN_TEXT = "Insufficient margin to place order."
PRICE_BAND_TEXT = "Order price cannot be more than 80% away from the reference price"
OPEN_INTEREST_CAP_TEXT = "Order would increase open interest while open interest is capped."

Rejection = tuple[RejectReason, str]

REFUSED_BEFORE_SENDING = frozenset({RejectReason.TICK, RejectReason.LOT, RejectReason.MIN_NOTIONAL})
"""What live makerd refuses itself, before an order or modify leaves for the exchange
(``Instrument.check_order`` in the order path): such a modify cancels nothing."""


def min_notional_text(instrument: Instrument) -> str:
    return f"Order must have minimum value of ${plain(instrument.min_notional)}."


def post_only_text(best_bid: Decimal | None, best_ask: Decimal | None) -> str:
    bbo = f"{plain(best_bid)}@{plain(best_ask)}"
    return f"Post only order would have immediately matched, bbo was {bbo}."


def plain(value: Decimal | None) -> str:
    """A price as Hyperliquid writes it: no exponent, no trailing zeros."""
    if value is None:
        return "None"
    return format(value.normalize(), "f")


def rule_rejection(
    instrument: Instrument,
    price: Decimal,
    size: Decimal,
    *,
    reduce_only: bool,
    reference: Decimal | None,
) -> Rejection | None:
    """The tick / size / price band / notional rejection Hyperliquid would give, or None
    if legal. ``reference`` is the mark the band is measured from (None: not known)."""
    try:
        instrument.check_order(price, size, reduce_only=reduce_only, reference=reference)
    except OrderRuleError as error:
        if error.reason == "min_notional":
            return RejectReason.MIN_NOTIONAL, min_notional_text(instrument)
        return _REJECTIONS.get(error.reason, (RejectReason.OTHER, error.detail))
    return None


def post_only_rejection(
    side: Side, price: Decimal, best_bid: Decimal | None, best_ask: Decimal | None
) -> Rejection | None:
    """A post-only order that would take liquidity is rejected with the bbo it saw."""
    if crosses(side, price, best_bid, best_ask):
        return RejectReason.POST_ONLY_WOULD_CROSS, post_only_text(best_bid, best_ask)
    return None


def crosses(side: Side, price: Decimal, best_bid: Decimal | None, best_ask: Decimal | None) -> bool:
    """True if a limit order at ``price`` would trade on arrival."""
    if side is Side.BUY:
        return best_ask is not None and price >= best_ask
    return best_bid is not None and price <= best_bid


_REJECTIONS: dict[str, Rejection] = {
    "tick": (RejectReason.TICK, TICK_TEXT),
    "size_zero": (RejectReason.LOT, ZERO_SIZE_TEXT),
    "lot": (RejectReason.LOT, INVALID_SIZE_TEXT),
    "price_band": (RejectReason.OTHER, PRICE_BAND_TEXT),
}
