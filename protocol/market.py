"""Market-data events: the book, public trades and feed health."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from protocol.side import Side


@dataclass(frozen=True, slots=True, kw_only=True)
class BookLevel:
    """One price level: total displayed size and the number of orders behind it."""

    price: Decimal
    size: Decimal
    orders: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class BookSnapshotReceived:
    """A full L2 snapshot as the venue sent it (Hyperliquid never sends diffs)."""

    coin: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    ts_exchange: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BookUpdated:
    """The book_feed's validated, conflated view of one coin's book."""

    coin: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    ts_exchange: int
    ts_local: int

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return (self.bids[0].price + self.asks[0].price) / 2


@dataclass(frozen=True, slots=True, kw_only=True)
class TradePrinted:
    """A public trade; ``side`` is the aggressor's."""

    coin: str
    side: Side
    price: Decimal
    size: Decimal
    trade_id: str
    ts_exchange: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedMessageDropped:
    """A feed message that could not be parsed or failed validation, counted and dropped."""

    channel: str
    reason: str
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedStale:
    """No fresh market data for longer than the staleness limit: quotes must come down."""

    coin: str
    silent_for_ns: int
    ts_exchange: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedRecovered:
    """Fresh market data again after a :class:`FeedStale`."""

    coin: str
    ts_exchange: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueConnectionChanged:
    """A venue stream (``market`` or ``user``) connected, or lost its connection.

    ``reason`` is empty on connect, else one of ``closed_ok``, ``closed_error``,
    ``timeout``, ``refused`` or ``other`` (a fixed set, for metric labels).
    """

    stream: str
    connected: bool
    reason: str
    ts_local: int
