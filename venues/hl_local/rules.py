"""The exchange's pre-trade checks, in its order, with its error texts.

The coin's halt, tick, lot, reference-price band, minimum notional (one rule with the paper venue's:
:func:`venues.paper.rules.rule_rejection`, so paper cannot drift from this venue),
reduce-only, the coin's open-interest cap, margin, then the post-only cross check. The
engine appends `` asset=<id>`` as the live exchange does.
"""

from __future__ import annotations

from decimal import Decimal

from makerd.venues.hl_local.accounts import Account
from makerd.venues.hl_local.book import OrderBook, RestingOrder
from makerd.venues.hl_local.universe import ListedPerp
from makerd.venues.hl_local.wire import OrderRequest
from makerd.venues.paper.rules import (
    OPEN_INTEREST_CAP_TEXT,
    REDUCE_ONLY_TEXT,
    post_only_text,
    rule_rejection,
)

MARGIN = "Insufficient margin to place order."
HALTED = "Trading is halted."


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
    capped: bool = False,
    halted: bool = False,
) -> Decimal:
    """Raise :class:`OrderRejected` or return the size to place (reduce-only may clip it).

    ``capped``: the coin's open interest is at its cap, and an order that could grow the
    account's position (anything but a reduction no larger than the position) is refused.
    ``halted``: the coin's trading is halted, and every order of it is refused."""
    if halted:
        raise OrderRejected(HALTED)
    refusal = rule_rejection(
        perp.instrument,
        request.price,
        request.size,
        reduce_only=request.reduce_only,
        reference=marks[perp.coin],
    )
    if refusal is not None:
        raise OrderRejected(refusal[1])
    size = request.size
    position = account.position(perp.coin).size
    reduces = (position > 0 and not request.is_buy) or (position < 0 and request.is_buy)
    if request.reduce_only:
        if not reduces:
            raise OrderRejected(REDUCE_ONLY_TEXT)
        size = min(size, abs(position))
    only_reduces = reduces and size <= abs(position)
    if capped and not only_reduces:
        raise OrderRejected(OPEN_INTEREST_CAP_TEXT)
    if not only_reduces:
        _check_margin(request, perp, account, marks, open_orders)
    if request.tif == "Alo" and book.would_cross(is_buy=request.is_buy, limit_px=request.price):
        raise OrderRejected(post_only_text(book.best_bid(), book.best_ask()))
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
