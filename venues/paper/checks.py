"""The venue's checks of an order, in its order, against paper's view of the market.

Tick, lot, price band and minimum value (:func:`venues.paper.rules.rule_rejection`, shared
with the local venue), reduce-only, the coin's open-interest cap (as the exchange lists it,
:mod:`venues.hyperliquid.paper_caps`), margin, then whether a post-only order would cross or
an immediate-or-cancel one could not. Our own resting orders are part of the venue's
book (paper's public book never shows them): a post-only bid at or above our own ask is
refused there, with our ask in the bbo it reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import TimeInForce
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from makerd.venues.paper import rules
from makerd.venues.paper.book import LocalBook
from makerd.venues.paper.held_books import Touch
from makerd.venues.paper.margin import PaperAccount
from makerd.venues.paper.position import PaperPosition
from makerd.venues.paper.queue import ZERO, OwnOrders, RestingOrder


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposed:
    """An order as the venue checks it; ``replacing`` is the order a modify takes off the
    book first (its margin is free for the new one, and it is no longer in the book)."""

    side: Side
    price: Decimal
    size: Decimal
    tif: TimeInForce
    reduce_only: bool
    replacing: RestingOrder | None = None
    public_touch: Touch | None = None
    """For a post-only order: the public book's best bid and ask as the exchange held them
    at its arrival, when paper knows them (see :mod:`venues.paper.held_books`); None:
    paper's last received book."""


class OrderChecks:
    """One coin's checks; ``account`` is replaced when the coin joins a shared account."""

    def __init__(
        self,
        instrument: Instrument,
        *,
        book: LocalBook,
        orders: OwnOrders,
        position: PaperPosition,
        account: PaperAccount,
        leverage: int,
    ) -> None:
        self._instrument = instrument
        self._book = book
        self._orders = orders
        self._position = position
        self.account = account
        self._leverage = leverage
        self.open_interest_capped = False
        """The exchange lists the coin at its open-interest cap: it takes only reductions."""

    def mid(self) -> Decimal | None:
        """The venue's mark as paper knows it: the book's mid (None: a side is empty)."""
        best_bid, best_ask = self._book.best(Side.BUY), self._book.best(Side.SELL)
        return None if best_bid is None or best_ask is None else (best_bid + best_ask) / 2

    def refusal(self, order: Proposed) -> rules.Rejection | None:
        """The venue's rejection of ``order``, or None if it would take it."""
        refusal = rules.rule_rejection(
            self._instrument,
            order.price,
            order.size,
            reduce_only=order.reduce_only,
            reference=self.mid(),
        )
        if refusal is not None:
            return refusal
        reducible = self._position.reducible_by(order.side)
        if order.reduce_only and reducible <= 0:
            return RejectReason.REDUCE_ONLY, rules.REDUCE_ONLY_TEXT
        if self.open_interest_capped and not _only_reduces(order, reducible):
            return RejectReason.OPEN_INTEREST_CAP, rules.OPEN_INTEREST_CAP_TEXT
        if not self._affords(order, reducible):
            return RejectReason.INSUFFICIENT_MARGIN, rules.INSUFFICIENT_MARGIN_TEXT
        return self._crossing_refusal(order)

    def _crossing_refusal(self, order: Proposed) -> rules.Rejection | None:
        if order.tif is TimeInForce.POST_ONLY:
            best_bid, best_ask = self._touch(Side.BUY, order), self._touch(Side.SELL, order)
            if rules.crosses(order.side, order.price, best_bid, best_ask):
                return RejectReason.POST_ONLY_WOULD_CROSS, rules.post_only_text(best_bid, best_ask)
        elif order.tif is TimeInForce.IMMEDIATE_OR_CANCEL:
            public_bid, public_ask = self._book.best(Side.BUY), self._book.best(Side.SELL)
            if not rules.crosses(order.side, order.price, public_bid, public_ask):
                return RejectReason.IOC_NO_MATCH, rules.IOC_NO_MATCH_TEXT
        return None

    def _touch(self, side: Side, order: Proposed) -> Decimal | None:
        """The venue's best price on ``side``: the public book's or one of our own resting
        orders' (not the one ``order`` replaces), whichever is better."""
        prices = [o.price for o in self._orders if o.side is side and o is not order.replacing]
        held = order.public_touch
        public = self._book.best(side) if held is None else held[0 if side is Side.BUY else 1]
        if public is not None:
            prices.append(public)
        if not prices:
            return None
        return max(prices) if side is Side.BUY else min(prices)

    def _affords(self, order: Proposed, reducible: Decimal) -> bool:
        """Whether the account has the margin for ``order``. One that only reduces the
        position (reduce-only, or no larger than what it closes) needs none."""
        if _only_reduces(order, reducible):
            return True
        freed = ZERO
        replacing = order.replacing
        if replacing is not None and not replacing.reduce_only:
            freed = replacing.price * replacing.size
        return self.account.affords((order.price * order.size - freed) / self._leverage)


def _only_reduces(order: Proposed, reducible: Decimal) -> bool:
    """Whether ``order`` can only shrink the position (``reducible`` of it on its side):
    reduce-only, or no larger than what it closes."""
    size = min(order.size, reducible) if order.reduce_only else order.size
    return 0 < size <= reducible
