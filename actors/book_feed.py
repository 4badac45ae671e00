"""book_feed: owns the validated L2 book per coin and the feed's health.

It turns venue snapshots into :class:`BookUpdated`, drops (and reports) malformed ones
and any book or trade for a coin other than its own (the venue boundary refuses those
first; this is the second line, so a wrong book can never reach the quoter),
and declares the feed stale when neither fresh data nor a fresh exchange timestamp has
arrived within the limit, so quotes come down before they can be picked off.
"""

from __future__ import annotations

from makerd.protocol.book_checks import book_problem
from makerd.protocol.control import TimerFired
from makerd.protocol.market import (
    BookSnapshotReceived,
    BookUpdated,
    DropReason,
    FeedMessageDropped,
    FeedRecovered,
    FeedStale,
    TradePrinted,
    TradesPrinted,
)


class BookFeedLogic:
    def __init__(self, *, coin: str, stale_after_ns: int) -> None:
        self._coin = coin
        self._stale_after_ns = stale_after_ns
        self._last_local_ns: int | None = None
        self._last_exchange_ns = 0
        self._stale = False
        self.books_accepted = 0
        self.books_dropped = 0
        self.wrong_coin_dropped = 0

    @property
    def stale(self) -> bool:
        return self._stale

    def handled_types(self) -> frozenset[type]:
        return frozenset({BookSnapshotReceived, TradesPrinted, TimerFired})

    def handle(self, message: object) -> list[object]:
        if isinstance(message, BookSnapshotReceived):
            if message.coin != self._coin:
                return self._wrong_coin(message)
            return self._on_snapshot(message)
        if isinstance(message, TradesPrinted):
            return self._on_trades(message.trades)
        if isinstance(message, TimerFired):
            return self._check_staleness(message.ts_local)
        return []

    def _on_trades(self, trades: tuple[TradePrinted, ...]) -> list[object]:
        """A trade is a fresh exchange timestamp: the feed is alive even with a still book."""
        out: list[object] = []
        for trade in trades:
            if trade.coin != self._coin:
                out += self._wrong_coin(trade)
            else:
                self._last_exchange_ns = max(self._last_exchange_ns, trade.ts_exchange)
        return out

    def _wrong_coin(self, message: BookSnapshotReceived | TradePrinted) -> list[object]:
        self.wrong_coin_dropped += 1
        channel = "l2Book" if isinstance(message, BookSnapshotReceived) else "trades"
        return [
            FeedMessageDropped(
                channel=channel,
                reason=DropReason.WRONG_COIN.value,
                ts_local=message.ts_local,
                stream="market",
                detail=f"{message.coin[:20]!r} reached the book_feed of {self._coin}",
            )
        ]

    def _on_snapshot(self, snapshot: BookSnapshotReceived) -> list[object]:
        problem = book_problem(snapshot.bids, snapshot.asks)
        if problem is not None:
            self.books_dropped += 1
            return [
                FeedMessageDropped(
                    channel="l2Book", reason=problem, ts_local=snapshot.ts_local, stream="market"
                )
            ]
        if snapshot.ts_exchange < self._last_exchange_ns:
            # An older block than one already seen (reordering after a reconnect).
            self.books_dropped += 1
            return [
                FeedMessageDropped(
                    channel="l2Book",
                    reason=DropReason.OUT_OF_ORDER.value,
                    ts_local=snapshot.ts_local,
                    stream="market",
                )
            ]
        self.books_accepted += 1
        self._last_local_ns = snapshot.ts_local
        self._last_exchange_ns = snapshot.ts_exchange
        out: list[object] = []
        if self._stale:
            self._stale = False
            out.append(
                FeedRecovered(
                    coin=self._coin, ts_exchange=snapshot.ts_exchange, ts_local=snapshot.ts_local
                )
            )
        out.append(
            BookUpdated(
                coin=snapshot.coin,
                bids=snapshot.bids,
                asks=snapshot.asks,
                ts_exchange=snapshot.ts_exchange,
                ts_local=snapshot.ts_local,
            )
        )
        return out

    def _check_staleness(self, now_ns: int) -> list[object]:
        if self._stale or self._last_local_ns is None:
            return []
        # Both clocks must be fresh: a socket that keeps delivering old blocks is frozen too.
        silent_for = max(now_ns - self._last_local_ns, now_ns - self._last_exchange_ns)
        if silent_for <= self._stale_after_ns:
            return []
        self._stale = True
        return [
            FeedStale(
                coin=self._coin,
                silent_for_ns=silent_for,
                ts_exchange=self._last_exchange_ns,
                ts_local=now_ns,
            )
        ]
