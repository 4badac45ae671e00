"""The market without us: a session's own orders taken out of its own recording.

A live or paper session's recording holds its own orders: the venue's ``l2Book`` counts
them in the displayed size, and its ``trades`` print our fills. Replayed as they are, the
backtest's quoter takes our live orders for the market's (often as the touch) and its
paper orders queue behind them. Given when each of our orders rested where (from the
session's journal) and the trade ids of our fills, :func:`without_own_orders` hands on
each recorded book less our resting size at its level (never below zero; a level that was
only us disappears) and drops the trades that were our fills.

An order counts as resting from its acknowledgement to its cancel, fill or rejection, at
the price and remaining size the order manager last knew, as seen at the recording's
local clock. A book that reached the recorder a moment before the acknowledgement (or
after a cancel's) is therefore corrected a moment late; the subtraction is clamped at
what the level shows. With several coins, an order is taken out of its own coin's books
only (its client id says which coin's it is).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from makerd.protocol.market import BookLevel, BookSnapshotReceived, TradePrinted
from makerd.protocol.side import Side
from makerd.venues.replay.messages import ReplayEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnOrderChange:
    """One of our orders at ``ts_local``: resting at ``price`` with ``size`` left, or gone."""

    ts_local: int
    cloid: str
    side: Side
    price: Decimal
    size: Decimal
    resting: bool


@dataclass(slots=True)
class _Resting:
    side: Side
    price: Decimal
    size: Decimal
    coin: str | None
    """None: the one coin of a session that quoted one."""


class OwnOrders:
    """Our orders as they stood, stepped forward through the recording's local time."""

    def __init__(
        self,
        changes: Sequence[OwnOrderChange],
        own_trade_ids: Iterable[str],
        *,
        coin_of_cloid: Callable[[str], str | None] | None = None,
    ) -> None:
        """``coin_of_cloid``: which coin an order is (several coins; None: one coin)."""
        self._coin_of_cloid = coin_of_cloid
        self._changes = sorted(changes, key=lambda change: change.ts_local)
        self._next = 0
        self.order_changes = len(self._changes)
        self._resting: dict[str, _Resting] = {}
        self.own_trade_ids = frozenset(own_trade_ids)
        self.trades_dropped = 0
        self.size_removed = Decimal(0)
        """Displayed size taken out of the recorded books, summed over every book."""

    def advance_to(self, ts_local: int) -> None:
        """Apply every change stamped at or before ``ts_local``."""
        changes = self._changes
        while self._next < len(changes) and changes[self._next].ts_local <= ts_local:
            change = changes[self._next]
            self._next += 1
            if change.resting and change.size > 0:
                coin = None if self._coin_of_cloid is None else self._coin_of_cloid(change.cloid)
                self._resting[change.cloid] = _Resting(change.side, change.price, change.size, coin)
            else:
                self._resting.pop(change.cloid, None)

    def book_without_us(self, book: BookSnapshotReceived) -> BookSnapshotReceived:
        """``book`` less our resting size at each of its levels."""
        self.advance_to(book.ts_local)
        if not self._resting:
            return book
        bids = self._subtract(book.bids, Side.BUY, book.coin)
        asks = self._subtract(book.asks, Side.SELL, book.coin)
        return replace(book, bids=bids, asks=asks)

    def is_own_trade(self, trade: TradePrinted) -> bool:
        return trade.trade_id in self.own_trade_ids

    def _subtract(
        self, levels: tuple[BookLevel, ...], side: Side, coin: str
    ) -> tuple[BookLevel, ...]:
        ours: dict[Decimal, tuple[Decimal, int]] = {}
        for order in self._resting.values():
            if order.side is side and order.coin in (None, coin):
                size, count = ours.get(order.price, (Decimal(0), 0))
                ours[order.price] = (size + order.size, count + 1)
        if not ours:
            return levels
        kept: list[BookLevel] = []
        for level in levels:
            size, count = ours.get(level.price, (Decimal(0), 0))
            if not count:
                kept.append(level)
                continue
            removed = min(size, level.size)
            self.size_removed += removed
            if level.size - removed > 0:
                orders = max(1, level.orders - count)
                kept.append(BookLevel(price=level.price, size=level.size - removed, orders=orders))
        return tuple(kept)


def without_own_orders(events: Iterator[ReplayEvent], own: OwnOrders) -> Iterator[ReplayEvent]:
    """``events`` with our orders taken out of the books and our fills out of the trades."""
    for event in events:
        if isinstance(event, BookSnapshotReceived):
            yield own.book_without_us(event)
        elif isinstance(event, TradePrinted) and own.is_own_trade(event):
            own.trades_dropped += 1
        else:
            yield event
