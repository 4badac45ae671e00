"""Which recorded trades are new flow, and which are history the exchange sent again.

On every (re)subscription Hyperliquid first sends a ``trades`` message of recent trades,
and the recorder keeps it as received. Those trades were seen before the connection was
lost, or printed before the first book: matching them would fill a resting order against
a trade printed before the order existed, or fill it twice over. This is the live feed's
rule, :class:`TradeHistory`: a trade older than the newest passed on is history, and so is
one of that newest time whose id was passed on, while another id of the same time (one
block prints several) is not.
"""

from __future__ import annotations

from typing import Final, Literal

from makerd.protocol.market import BookSnapshotReceived, TradePrinted
from makerd.venues.hyperliquid.trade_history import TradeHistory

Kind = Literal["books", "trades", "trades_before_first_book", "trades_seen_before"]
MATCHED: Final = frozenset({"books", "trades"})
"""The kinds the paper exchange is fed; the others are counted, not matched."""


class FreshTrades:
    """Sorts one replay's books and trades, per coin, into the kinds of :data:`Kind`."""

    def __init__(self) -> None:
        self._books_from_ns: dict[str, int] = {}
        self._history = TradeHistory()

    def kind(self, event: BookSnapshotReceived | TradePrinted) -> Kind:
        coin = event.coin
        if isinstance(event, BookSnapshotReceived):
            self._books_from_ns.setdefault(coin, event.ts_exchange)
            return "books"
        books_from_ns = self._books_from_ns.get(coin)
        if books_from_ns is None or event.ts_exchange < books_from_ns:
            # The first book already shows what these trades did.
            return "trades_before_first_book"
        return "trades" if self._history.is_new(event) else "trades_seen_before"
