"""One recorded WebSocket message → the protocol events the live feed would have made of it.

Both recording formats carry Hyperliquid's raw messages (``{"channel": ..., "data": ...}``);
this module is where they become :class:`BookSnapshotReceived` and :class:`TradePrinted`
through the live feed's own parsers, so a replay validates exactly as live does. A message
that fails a check, or comes on a channel the backtest does not use, becomes a
:class:`FeedMessageDropped` (counted, as live counts it) rather than an error: one bad
message in an hour of data must not end the replay.

``bbo`` messages are dropped too: the paper engine's book comes from ``l2Book``, and a
one-level ``bbo`` snapshot in between would erase the depth it estimates queues from.
"""

from __future__ import annotations

from dataclasses import dataclass

from makerd.protocol.market import (
    BookSnapshotReceived,
    DropReason,
    FeedMessageDropped,
    TradePrinted,
)
from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.parse import LevelCache, parse_l2_book, parse_trades

GAP_CHANNEL = "makerdGap"
"""The channel of the line the recorder writes where its stream was interrupted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingGap:
    """The recorder lost the stream here: data between this and the next line is missing."""

    ts_local: int


ReplayEvent = BookSnapshotReceived | TradePrinted | FeedMessageDropped | RecordingGap

Coins = str | frozenset[str]
"""The coin a reader keeps, or the coins when a replay takes several (a file of several
coins is then read once, not once per coin)."""


def is_wanted(name: object, coins: Coins) -> bool:
    """Whether a message about coin ``name`` is one of ``coins``."""
    return name in coins if isinstance(coins, frozenset) else name == coins


def events_of(
    message: object, *, ts_local: int, coin: Coins, cache: LevelCache | None = None
) -> list[ReplayEvent]:
    """The events of one decoded message of ``coin`` (other coins' messages give none).

    ``cache`` carries parsed book levels from one message to the next (one per file).
    """
    if not isinstance(message, dict):
        return [_dropped("?", DropReason.BAD_FIELD, ts_local, "message is not an object")]
    channel = message.get("channel")
    data = message.get("data")
    if channel == "l2Book":
        return book_events(data, ts_local=ts_local, coin=coin, cache=cache)
    try:
        if channel == "trades":
            trades = parse_trades(data, ts_local=ts_local)
            return [trade for trade in trades if is_wanted(trade.coin, coin)]
    except FeedParseError as error:
        return [_dropped(error.channel, error.reason, ts_local, error.detail)]
    if channel == GAP_CHANNEL:
        return [RecordingGap(ts_local=ts_local)]
    name = channel if isinstance(channel, str) else "?"
    return [_dropped(name[:32], DropReason.UNKNOWN_CHANNEL, ts_local, "not replayed")]


def book_events(
    data: object, *, ts_local: int, coin: Coins, cache: LevelCache | None = None
) -> list[ReplayEvent]:
    """The events of one ``l2Book`` message's ``data``: decoded JSON or a typed :class:`WireBook`.

    Either way the book passes the live parser's checks, and a refused one is one drop.
    """
    try:
        book = parse_l2_book(data, ts_local=ts_local, cache=cache)
    except FeedParseError as error:
        return [_dropped(error.channel, error.reason, ts_local, error.detail)]
    # Every book of a replay passes here: one coin's test stays a plain comparison.
    wanted = book.coin == coin if isinstance(coin, str) else book.coin in coin
    return [book] if wanted else []


def _dropped(channel: str, reason: str, ts_local: int, detail: str) -> FeedMessageDropped:
    return FeedMessageDropped(
        channel=channel, reason=reason, ts_local=ts_local, stream="market", detail=detail
    )
