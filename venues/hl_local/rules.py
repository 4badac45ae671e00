"""The exchange's pre-trade checks, in its order, with its error texts.

Tick, lot, reference-price band, minimum notional, reduce-only, margin, then the
post-only cross check. The engine appends `` asset=<id>`` as the live exchange does.
"""

from __future__ import annotations

from decimal import Decimal

from makerd.venues.hl_local.accounts import Account
from makerd.venues.hl_local.book import OrderBook, RestingOrder
from makerd.venues.hl_local.universe import ListedPerp, wire_price_short
from makerd.venues.hl_local.wire import OrderRequest

TICK = "Price must be divisible by tick size."
INVALID_SIZE = "Order has invalid size."
MIN_NOTIONAL = "Order must have minimum value of $10."
REDUCE_ONLY = "Reduce only order would increase position."
MARGIN = "Insufficient margin to place order."
PRICE_BAND = "Order price cannot be more than 80% away from the reference price"
MAX_DISTANCE_FROM_REFERENCE = Decimal("0.8")


class OrderRejected(Exception):  # noqa: N818 - named like the exchange's rejection
    """An order refused by a pre-trade check; the message is the exchange's text."""


def check_order(
    *,
    request: OrderRequest,
    perp: ListedPerp,
    account: Account,
    book: OrderBook,
    marks: dict[str, Decimal],
    open_orders: list[RestingOrder],
) -> Decimal:
    """Raise :class:`OrderRejected` or return the size to place (reduce-only may clip it)."""
    instrument = perp.instrument
    if not instrument.is_valid_price(request.price):
        raise OrderRejected(TICK)
    if not instrument.is_valid_size(request.size):
        raise OrderRejected(INVALID_SIZE)
    reference = marks[perp.coin]
    if abs(request.price - reference) > reference * MAX_DISTANCE_FROM_REFERENCE:
        raise OrderRejected(PRICE_BAND)
    if not request.reduce_only and request.price * request.size < instrument.min_notional:
        raise OrderRejected(MIN_NOTIONAL)
    size = request.size
    position = account.position(perp.coin).size
    reduces = (position > 0 and not request.is_buy) or (position < 0 and request.is_buy)
    if request.reduce_only:
        if not reduces:
            raise OrderRejected(REDUCE_ONLY)
        size = min(size, abs(position))
    if not (reduces and size <= abs(position)):
        _check_margin(request, perp, account, marks, open_orders)
    if request.tif == "Alo" and book.would_cross(is_buy=request.is_buy, limit_px=request.price):
        raise OrderRejected(
            "Post only order would have immediately matched, bbo was "
            f"{_bbo_text(book.best_bid())}@{_bbo_text(book.best_ask())}."
        )
    return size


def _check_margin(
    request: OrderRequest,
    perp: ListedPerp,
    account: Account,
    marks: dict[str, Decimal],
    open_orders: list[RestingOrder],
) -> None:
    max_leverage = perp.instrument.max_leverage
    used = Decimal(0)
    for coin, position in account.positions.items():
        listed_leverage = account.leverage_for(coin, max_leverage)
        used += abs(position.size) * marks.get(coin, position.entry_px) / listed_leverage
    for order in open_orders:
        if not order.reduce_only:
            used += (
                order.limit_px * order.remaining / account.leverage_for(order.coin, max_leverage)
            )
    leverage = account.leverage_for(perp.coin, max_leverage)
    needed = request.price * request.size / leverage
    if used + needed > account.account_value(marks):
        raise OrderRejected(MARGIN)


def _bbo_text(price: Decimal | None) -> str:
    return "None" if price is None else wire_price_short(price)
