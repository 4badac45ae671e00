"""Our resting orders and their place in each price level's queue.

The paper engine never sees the orders of other traders, only displayed level sizes and
public trades, so queue position is estimated the way hftbacktest does it: an order joins
behind everything displayed at its price (and behind our own earlier orders there); trades
at its price eat the queue ahead first and then the order; how much of a level's shrinking
*without* trades came from ahead of us is the configured model's call
(:mod:`venues.paper.queue_models`), and the queue ahead never exceeds the displayed size;
a trade or a book that goes *through* our price means everything at our price was taken,
including us.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter

from makerd.protocol.orders import TimeInForce
from makerd.protocol.side import Side
from makerd.venues.paper.queue_models import QueueEstimate, RiskAverseQueue

ZERO = Decimal(0)
_PRIORITY = attrgetter("priority")


@dataclass(slots=True, kw_only=True)
class RestingOrder:
    """One of our orders resting at the paper venue (mutable engine state, never sent)."""

    cloid: str
    venue_order_id: int
    side: Side
    price: Decimal
    size: Decimal
    """Remaining size."""
    tif: TimeInForce
    reduce_only: bool
    queue_ahead: Decimal
    """Size (others' and our own earlier orders') to trade at our price before we fill."""
    priority: int
    """Time priority at the level: lower joined earlier."""
    effective_ns: int
    """When the order took effect; market data older than this cannot fill it."""
    level_shown: Decimal | None = None
    """The size displayed at our level in the last book (None: beyond its depth)."""
    traded_at_level: Decimal = ZERO
    """Size publicly traded at our price since that book."""

    def is_traded_through(self, trade_price: Decimal) -> bool:
        """True if a public trade printed beyond our price (a sell below our bid)."""
        return trade_price < self.price if self.side is Side.BUY else trade_price > self.price

    def is_beyond(self, price: Decimal) -> bool:
        """True if ``price`` on our side is ahead of ours (an ask below our ask): a taker
        reaches it before us."""
        return price < self.price if self.side is Side.SELL else price > self.price

    def is_crossed_by(self, opposite_touch: Decimal) -> bool:
        """True if the other side's best price reached ours (the best ask at or below our bid)."""
        if self.side is Side.BUY:
            return opposite_touch <= self.price
        return opposite_touch >= self.price


class OwnOrders:
    """Our resting orders, with the queue bookkeeping between orders at one level."""

    def __init__(self, estimate: QueueEstimate | None = None) -> None:
        self._orders: dict[str, RestingOrder] = {}
        self._estimate: QueueEstimate = estimate or RiskAverseQueue()

    def __contains__(self, cloid: str) -> bool:
        return cloid in self._orders

    def __iter__(self) -> Iterator[RestingOrder]:
        """Orders in time priority."""
        return iter(sorted(self._orders.values(), key=_PRIORITY))

    def get(self, cloid: str) -> RestingOrder | None:
        return self._orders.get(cloid)

    def expire_reached(
        self, taker: Side, limit: Decimal, size: Decimal, taken: list[tuple[Decimal, Decimal]]
    ) -> list[RestingOrder]:
        """Self-trade prevention, as the venue does it: each of our resting orders that a
        ``taker`` order of ours reaches (it still had size left after the better prices and
        the queue ahead of that order) is removed, with no fill. ``taken`` is what it took
        from the others; returned are the orders removed."""
        expired = []
        for own in list(self):
            if own.side is taker or not own.is_crossed_by(limit):
                continue
            before = sum((part for price, part in taken if own.is_beyond(price)), ZERO)
            if size - before > own.queue_ahead:
                self.remove(own.cloid)
                expired.append(own)
        return expired

    def own_size_at(self, side: Side, price: Decimal) -> Decimal:
        """Our remaining size already resting at one level (a newcomer queues behind it)."""
        return sum(
            (o.size for o in self._orders.values() if o.side is side and o.price == price),
            ZERO,
        )

    def add(self, order: RestingOrder) -> None:
        self._orders[order.cloid] = order

    def remove(self, cloid: str) -> RestingOrder | None:
        """Take an order out; later orders at its level move up by its remaining size."""
        order = self._orders.pop(cloid, None)
        if order is not None and order.size > 0:
            self._shrink_behind(order, order.size)
        return order

    def fills_from_trade(
        self, aggressor: Side, price: Decimal, size: Decimal, happened_ns: int
    ) -> list[tuple[RestingOrder, Decimal]]:
        """How much of each order a public trade fills, updating queue positions.

        ``happened_ns``: when it printed (an order that took effect later is not touched).
        """
        fills: list[tuple[RestingOrder, Decimal]] = []
        for order in self:
            if order.side is aggressor or order.effective_ns > happened_ns:
                continue
            if order.is_traded_through(price):
                fills.append((order, order.size))
            elif price == order.price:
                order.traded_at_level += size
                filled = min(order.size, max(ZERO, size - order.queue_ahead))
                order.queue_ahead = max(ZERO, order.queue_ahead - size)
                if filled > 0:
                    fills.append((order, filled))
        return fills

    def fills_from_book(
        self,
        best_bid: Decimal | None,
        best_ask: Decimal | None,
        displayed_at: Callable[[Side, Decimal], Decimal | None],
        happened_ns: int,
    ) -> list[tuple[RestingOrder, Decimal]]:
        """Orders the new book trades through; cap the queue ahead of the others.

        ``displayed_at(side, price)`` is the size now shown at a level, or None when the
        level lies beyond the published depth (then the book tells us nothing about it).
        ``happened_ns``: the book's time (an order that took effect later is not touched).
        """
        fills: list[tuple[RestingOrder, Decimal]] = []
        # Keyed by (is a bid, price): a bool hashes in C, a Side in Python.
        own_ahead: dict[tuple[bool, Decimal], Decimal] = {}
        buy = Side.BUY
        for order in self:
            if order.effective_ns > happened_ns:
                continue
            is_bid = order.side is buy
            opposite_touch = best_ask if is_bid else best_bid
            if opposite_touch is not None and order.is_crossed_by(opposite_touch):
                fills.append((order, order.size))
                continue
            key = (is_bid, order.price)
            shown = displayed_at(order.side, order.price)
            ahead_of_us = own_ahead.get(key, ZERO)
            if shown is not None:
                estimate = ahead_of_us + self._others_ahead(order, ahead_of_us, shown)
                # A book never puts anyone back in front of us.
                order.queue_ahead = min(order.queue_ahead, estimate)
            order.level_shown, order.traded_at_level = shown, ZERO
            own_ahead[key] = ahead_of_us + order.size
        return fills

    def _others_ahead(self, order: RestingOrder, own_ahead: Decimal, shown: Decimal) -> Decimal:
        """Others' size ahead of ``order`` after a book showing ``shown`` at its level."""
        front = max(ZERO, order.queue_ahead - own_ahead)
        if order.level_shown is None:
            return min(front, shown)
        return self._estimate.after_book(
            front=front,
            shown_before=order.level_shown,
            shown_now=shown,
            traded=order.traded_at_level,
        )

    def _shrink_behind(self, leaving: RestingOrder, amount: Decimal) -> None:
        for order in self._orders.values():
            same_level = order.side is leaving.side and order.price == leaving.price
            if same_level and order.priority > leaving.priority:
                order.queue_ahead = max(ZERO, order.queue_ahead - amount)
