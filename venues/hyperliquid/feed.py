"""Public market data: ``l2Book`` and ``trades`` for each coin, as protocol events.

Hyperliquid sends full book snapshots (never diffs), and subscribing sends the current
book at once, so every reconnect starts from a fresh snapshot without extra requests.
Book and trade times are the exchange's (ms → ns) and receive times are local, which is
what lets the book_feed tell a frozen feed from a quiet one. A frame that does not
parse, or fails a check of its :class:`FrameGuard` (a coin this session does not trade,
a price outside the band around the last good mid, a time beyond the clock-skew bound,
a crossed book), is counted, logged at a rate limit and reported as
:class:`FeedMessageDropped`, never raised. Only a book that passed every check moves
the band's anchor, and only when the anchor is due to move (5 s old, or 1 % off).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from makerd.protocol.book_checks import book_problem
from makerd.protocol.market import (
    BookSnapshotReceived,
    FeedMessageDropped,
    TradePrinted,
    TradesPrinted,
    VenueConnectionChanged,
    trades_by_coin,
)
from makerd.venues.base import EventSink
from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.limits import FrameGuard, FrameLimits
from makerd.venues.hyperliquid.parse import LevelCache, parse_l2_book, parse_trades
from makerd.venues.hyperliquid.trade_history import TradeHistory
from makerd.venues.hyperliquid.ws_connection import ReconnectingSocket, ReconnectPolicy, StreamTap

MarketEvent = BookSnapshotReceived | TradesPrinted
_BACKFILL_GRACE_NS = 2_000_000_000


def market_subscriptions(coins: Sequence[str]) -> list[dict[str, object]]:
    """``l2Book`` and ``trades`` for each coin: what the feed (and a recorder) reads."""
    subscriptions: list[dict[str, object]] = []
    for coin in coins:
        subscriptions.append({"type": "l2Book", "coin": coin})
        subscriptions.append({"type": "trades", "coin": coin})
    return subscriptions


class MarketFeed:
    """Turns the market-data WebSocket's frames into events for ``sink``.

    The exchange replays recent trades on subscribe; those are history, not flow, so
    trades already passed on (:class:`TradeHistory`) or, on the first connection, older
    than the connection itself by more than ``_BACKFILL_GRACE_NS`` are dropped: paper
    matching must not fill against them.
    """

    def __init__(
        self,
        *,
        ws_url: str,
        coins: Sequence[str],
        sink: Callable[[MarketEvent | FeedMessageDropped | VenueConnectionChanged], None]
        | EventSink,
        policy: ReconnectPolicy,
        now_ns: Callable[[], int],
        limits: FrameLimits | None = None,
        listed_coins: Sequence[str] | None = None,
        tap: StreamTap | None = None,
        monotonic_ns: Callable[[], int] | None = None,
    ) -> None:
        """``listed_coins`` (the venue's universe) only names drops: unknown vs wrong coin.

        ``tap`` (a recorder) hears every message as received, before it is parsed.
        ``monotonic_ns`` stamps each book and trade with the monotonic time it was heard
        (``ts_mono``), which the book_feed measures the feed's health on.
        """
        self._monotonic_ns = monotonic_ns
        self._sink = sink
        self._coins = frozenset(coins)
        self.guard = FrameGuard(limits=limits, coins=coins, listed=listed_coins)
        """Shared with whatever else parses this venue's frames (the user stream's fills)."""
        self._levels = LevelCache()
        """Levels already checked under ``guard``: most repeat from one book to the next."""
        self._now_ns = now_ns
        self._trade_history = TradeHistory()
        self.dropped = 0
        self.socket = ReconnectingSocket(
            name="market",
            url=ws_url,
            subscriptions=market_subscriptions(coins),
            on_frame=self._on_frame,
            on_connected=self._on_connected,
            on_malformed=self._drop_malformed,
            policy=policy,
            now_ns=now_ns,
            on_state=sink,
            limits=self.guard.limits,
            tap=tap,
        )

    async def run(self) -> None:
        await self.socket.run()

    def _on_connected(self, _connection: int) -> None:
        floor = self._now_ns() - _BACKFILL_GRACE_NS
        for coin in self._coins:
            self._trade_history.start_at(coin, floor)

    def _on_frame(self, channel: str, data: object, ts_local: int) -> None:
        # Read microseconds after ts_local, in the same call from the socket's read.
        mono = None if self._monotonic_ns is None else self._monotonic_ns()
        try:
            if channel == "l2Book":
                book = parse_l2_book(
                    data, ts_local=ts_local, ts_mono=mono, guard=self.guard, cache=self._levels
                )
                self._move_band(book, ts_local)
                self._sink(book)
            elif channel == "trades":
                trades = parse_trades(data, ts_local=ts_local, ts_mono=mono, guard=self.guard)
                self._on_trades(trades)
        except FeedParseError as error:
            self._drop(channel, error.reason, error.detail, ts_local)

    def _move_band(self, book: BookSnapshotReceived, ts_local: int) -> None:
        if not book.bids or not book.asks:
            return
        mid = (book.bids[0].price + book.asks[0].price) / 2
        # Only a book the book_feed will take moves the band: an unsorted one need not
        # start with its best prices, and a run of them could walk the band away from the
        # market (the next real book then refused).
        if (
            self.guard.anchor_due(book.coin, mid, ts_local)
            and book_problem(book.bids, book.asks) is None
        ):
            self.guard.anchor(book.coin, mid, ts_local)

    def _on_trades(self, trades: tuple[TradePrinted, ...]) -> None:
        """A frame's new trades, one message per coin (Hyperliquid's frames carry one)."""
        for printed in trades_by_coin(t for t in trades if self._trade_history.is_new(t)):
            self._sink(printed)

    def _drop(self, channel: str, reason: str, detail: str, ts_local: int) -> None:
        self.dropped += 1
        self.socket.record_drop(channel, reason, detail, ts_local)
        self._report_drop(channel, reason, detail, ts_local)

    def _drop_malformed(self, reason: str, ts_local: int) -> None:
        # Already logged by the socket, which read (or failed to read) the message.
        self.dropped += 1
        self._report_drop("ws", reason, "", ts_local)

    def _report_drop(self, channel: str, reason: str, detail: str, ts_local: int) -> None:
        self._sink(
            FeedMessageDropped(
                channel=channel, reason=reason, ts_local=ts_local, stream="market", detail=detail
            )
        )
