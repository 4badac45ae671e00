"""The books the exchange held, by when they happened there, for judging a post-only order.

The exchange checks an order against its own book when the order arrives. Paper learns
of a book only when it is received, a feed latency later (hundreds of ms from a distant
recorder), so the book it last received when an order arrives is older than the one the
exchange held. A replay has the recording's later lines at hand: it hands each book
over here at the time it happened (:func:`happened_ns`), before it is received, and an
order arriving at ``T`` is judged against the newest book that happened by ``T``. In
paper mode nothing is handed over, and the book last received stands in for it.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from makerd.protocol.market import BookLevel, BookSnapshotReceived, TradePrinted

Touch = tuple[Decimal | None, Decimal | None]
"""A book's best bid and best ask (None: that side is empty)."""


def happened_ns(event: BookSnapshotReceived | TradePrinted) -> int:
    """When market data happened, to compare with when an order took effect.

    Orders take effect on the local clock (sent + entry latency); market data is stamped
    on both. Its local time is late by the feed latency (hundreds of ms from a distant
    recorder): by that clock alone a trade printed before our order reached the exchange
    filled it. The earlier of the two clocks (the exchange's, when they are in step)
    counts; a local clock behind the exchange's keeps its own.
    """
    return min(event.ts_local, event.ts_exchange)


class HeldBooks:
    """Books handed over ahead of their receipt, asked for in time order (a venue's
    commands take effect in time order): each answer lets the older books go."""

    def __init__(self) -> None:
        self._books: deque[tuple[int, BookSnapshotReceived]] = deque()

    def add(self, book: BookSnapshotReceived) -> None:
        """The exchange held ``book`` from the time it happened on."""
        self._books.append((happened_ns(book), book))

    def at(self, at_ns: int) -> BookSnapshotReceived | None:
        """The newest book that happened by ``at_ns`` (None: none was handed over)."""
        self.forget_before(at_ns)
        books = self._books
        if books and books[0][0] <= at_ns:
            return books[0][1]
        return None

    def forget_before(self, at_ns: int) -> None:
        """Let go of every book older than the newest that happened by ``at_ns``: nothing
        will be asked about earlier (called with each book received, so memory stays
        bounded by the books handed over ahead of their receipt)."""
        books = self._books
        while len(books) > 1 and books[1][0] <= at_ns:
            books.popleft()


def touch_of(book: BookSnapshotReceived) -> Touch:
    """``book``'s best bid and ask (its levels are best first, as Hyperliquid sends them)."""
    return _best(book.bids), _best(book.asks)


def _best(levels: tuple[BookLevel, ...]) -> Decimal | None:
    return next((level.price for level in levels if level.size > 0), None)
