"""book_feed: owns the validated L2 book per coin and the feed's health.

It turns venue snapshots into :class:`BookUpdated`, drops (and reports) malformed ones
and any book or trade for a coin other than its own (the venue boundary refuses those
first; this is the second line, so a wrong book can never reach the quoter),
and declares the feed stale when the exchange's time has not moved on within the limit,
so quotes come down before they can be picked off.

Freshness is measured on the local clocks alone: when (locally) did a block or trade last
carry a newer exchange time. The gap between the host's clock and the exchange's is not
a delay: on a host whose clock ran ahead of the exchange's by more than the limit,
comparing them judged every book stale at the next timer (and the next book recovered
it: quotes flapped at the book rate), and 60 s ahead latched the stale-feed kill switch
at once. Only a book that moves the exchange's time on recovers a stale feed: a socket
re-sending an old block is as frozen as a silent one.

Durations are read on the monotonic clock where the messages carry it (``ts_mono``; on
the wall clock otherwise, in simulated time). On the wall clock, a forward step of more
than the limit (NTP, a VM resumed) made every block late and dropped on a live market,
and a minute later the stale-feed kill switch latched.

A block whose exchange time moves on but that is heard late, by more than the limit, is
not fresh either (:mod:`actors.feed_lateness`): it is dropped as ``late``, so a feed with
a backlog goes stale as a silent one does, and quotes never follow half-minute-old books.
"""

from __future__ import annotations

from makerd.actors.feed_lateness import FeedLateness
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

LATENESS_WINDOW_NS = 600 * 1_000_000_000
"""How long the quickest block is remembered: a backlog is caught for this long."""


class BookFeedLogic:
    def __init__(
        self, *, coin: str, stale_after_ns: int, lateness_window_ns: int = LATENESS_WINDOW_NS
    ) -> None:
        self._coin = coin
        self._stale_after_ns = stale_after_ns
        self._lateness = FeedLateness(window_ns=lateness_window_ns)
        self._last_exchange_ns = 0
        self._advanced_local_ns: int | None = None
        """Local time at which the exchange's time last moved on (None: no book yet)."""
        self._advanced_mono_ns: int | None = None
        """The same instant on the monotonic clock (None: the messages carry none)."""
        self._stale_at_exchange_ns = 0
        """The exchange's newest time when the feed went stale: a book past it recovers."""
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
            return self._check_staleness(message)
        return []

    def _on_trades(self, trades: tuple[TradePrinted, ...]) -> list[object]:
        """A trade is a fresh exchange timestamp: the feed is alive even with a still book."""
        out: list[object] = []
        for trade in trades:
            if trade.coin != self._coin:
                out += self._wrong_coin(trade)
            elif trade.ts_exchange > self._last_exchange_ns and not self._late(trade):
                self._last_exchange_ns = trade.ts_exchange
                if self._advanced_local_ns is not None:
                    self._advanced_local_ns = max(self._advanced_local_ns, trade.ts_local)
                    self._advanced_mono_ns = _later(self._advanced_mono_ns, trade.ts_mono)
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
            return self._drop(snapshot, problem)
        if snapshot.ts_exchange < self._last_exchange_ns:
            # An older block than one already seen (reordering after a reconnect).
            return self._drop(snapshot, DropReason.OUT_OF_ORDER.value)
        if self._late(snapshot):
            return self._drop(snapshot, DropReason.LATE.value)
        self.books_accepted += 1
        moved_on = snapshot.ts_exchange > self._last_exchange_ns or self._advanced_local_ns is None
        if moved_on:
            self._advanced_local_ns = snapshot.ts_local
            self._advanced_mono_ns = snapshot.ts_mono
        self._last_exchange_ns = snapshot.ts_exchange
        out: list[object] = []
        if self._stale and snapshot.ts_exchange > self._stale_at_exchange_ns:
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

    def _drop(self, snapshot: BookSnapshotReceived, reason: str) -> list[object]:
        self.books_dropped += 1
        return [
            FeedMessageDropped(
                channel="l2Book", reason=reason, ts_local=snapshot.ts_local, stream="market"
            )
        ]

    def _late(self, message: BookSnapshotReceived | TradePrinted) -> bool:
        heard = message.ts_local if message.ts_mono is None else message.ts_mono
        late_by = self._lateness.late_by(ts_local=heard, ts_exchange=message.ts_exchange)
        return late_by > self._stale_after_ns

    def _check_staleness(self, timer: TimerFired) -> list[object]:
        if self._stale or self._advanced_local_ns is None:
            return []
        now_ns = timer.ts_local
        if timer.ts_mono is not None and self._advanced_mono_ns is not None:
            silent_for = timer.ts_mono - self._advanced_mono_ns
        else:
            # After the wall clock stepped back (NTP), count the silence from here, not
            # from a time the clock takes the step's length to reach again (a dead feed
            # kept its quotes up that long).
            self._advanced_local_ns = min(self._advanced_local_ns, now_ns)
            silent_for = now_ns - self._advanced_local_ns
        if silent_for <= self._stale_after_ns:
            return []
        self._stale = True
        self._stale_at_exchange_ns = self._last_exchange_ns
        return [
            FeedStale(
                coin=self._coin,
                silent_for_ns=silent_for,
                ts_exchange=self._last_exchange_ns,
                ts_local=now_ns,
                ts_mono=timer.ts_mono,
            )
        ]


def _later(kept: int | None, heard: int | None) -> int | None:
    return heard if kept is None else kept if heard is None else max(kept, heard)
