"""Market-data events: the book, public trades and feed health."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

import msgspec

from makerd.protocol.side import Side

T = TypeVar("T")


class BookLevel(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One price level: total displayed size and the number of orders behind it.

    A frozen msgspec Struct rather than a frozen dataclass: as immutable, slotted and
    keyword-only, but built in a tenth of the time (a frozen dataclass sets each field
    through ``object.__setattr__``), and forty are built for every book a venue sends.
    Never part of a reference cycle (two decimals and an int), so not tracked by the GC.
    """

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
    ts_mono: int | None = None
    """The host's monotonic clock when ``ts_local`` was read, for durations: a step of the
    wall clock is neither silence nor lag. None where time is simulated (sim, replay)."""


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
    ts_mono: int | None = None
    """As :attr:`BookSnapshotReceived.ts_mono`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TradesPrinted:
    """One coin's public trades as they arrived together (a WebSocket frame, a venue's
    step), oldest first: one message, so one wake-up of each reader, for the lot."""

    coin: str
    trades: tuple[TradePrinted, ...]
    ts_local: int


def together(events: Iterable[T]) -> list[T | TradesPrinted]:
    """``events`` with each run of consecutive trades of one coin as one
    :class:`TradesPrinted` (every other event as it was, in its place)."""
    out: list[T | TradesPrinted] = []
    run: list[TradePrinted] = []
    for event in events:
        if isinstance(event, TradePrinted) and (not run or run[0].coin == event.coin):
            run.append(event)
            continue
        if run:
            out.append(_printed(run))
        if isinstance(event, TradePrinted):
            run = [event]
        else:
            run = []
            out.append(event)
    if run:
        out.append(_printed(run))
    return out


def trades_by_coin(trades: Iterable[TradePrinted]) -> list[TradesPrinted]:
    """Trades that arrived together, one :class:`TradesPrinted` per run of one coin."""
    return [printed for printed in together(trades) if isinstance(printed, TradesPrinted)]


def _printed(run: list[TradePrinted]) -> TradesPrinted:
    return TradesPrinted(coin=run[0].coin, trades=tuple(run), ts_local=run[-1].ts_local)


class DropReason(StrEnum):
    """Why a venue message was dropped: a fixed set, so it can label a metric."""

    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    TOO_DEEP = "too_deep"
    UNKNOWN_CHANNEL = "unknown_channel"
    MISSING_FIELD = "missing_field"
    BAD_FIELD = "bad_field"
    """A field of the wrong type or shape (a list that is not one, a side not B/A)."""
    BAD_PRICE = "bad_price"
    BAD_SIZE = "bad_size"
    BAD_NUMBER = "bad_number"
    """A decimal that is neither a price nor a size (a fee, a volume) did not parse."""
    BAD_TIME = "bad_time"
    FUTURE_TIME = "future_time"
    WRONG_COIN = "wrong_coin"
    UNKNOWN_COIN = "unknown_coin"
    OUT_OF_BAND = "out_of_band"
    CROSSED_BOOK = "crossed_book"
    TOO_MANY_LEVELS = "too_many_levels"
    HANDLER_ERROR = "handler_error"
    """The code handling a frame raised: a bug, logged with its traceback."""
    # The book_feed's own checks of a snapshot that reached it.
    EMPTY_SIDE = "empty_side"
    BIDS_NOT_DESCENDING = "bids_not_descending"
    ASKS_NOT_ASCENDING = "asks_not_ascending"
    CROSSED = "crossed"
    NON_POSITIVE_LEVEL = "non_positive_level"
    OUT_OF_ORDER = "out_of_order"
    LATE = "late"
    """Heard later than the window's quickest block by more than the staleness limit."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedMessageDropped:
    """A venue message that could not be parsed or failed validation, counted and dropped.

    ``reason`` is a :class:`DropReason` value; ``detail`` says more, for logs only.
    ``stream`` is ``market`` or ``user``: a label every sender must give (a catch-all
    value would make a series that no alert can tell from a healthy stream).
    """

    channel: str
    reason: str
    ts_local: int
    stream: str
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedStale:
    """No fresh market data for longer than the staleness limit: quotes must come down."""

    coin: str
    silent_for_ns: int
    ts_exchange: int
    ts_local: int
    ts_mono: int | None = None
    """The monotonic stamp of the timer that found the feed stale (None: simulated time)."""


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
