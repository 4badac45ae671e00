"""Backtest's venue: recorded market data feeding the paper exchange, on one simulated clock.

The paper exchange sees the recording's books and trades at their local receive times,
exactly as paper mode sees Hyperliquid's live feed, so queue position, partial fills,
fees and both latencies are the paper engine's. Recorded events reach makerd at their
own local time: the feed latency replayed is the recording's. The exchange is also handed
each book at the time it happened, ahead of its receipt (the replay reads a few seconds
ahead): a post-only order is judged against the book the exchange held when it arrived.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

from makerd.config.model import PaperConfig
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookSnapshotReceived, FeedMessageDropped, TradePrinted
from makerd.protocol.orders import VenueCommand
from makerd.venues.paper.exchange import PaperExchange
from makerd.venues.paper.held_books import happened_ns
from makerd.venues.paper.latency import OrderLatency
from makerd.venues.paper.replies import PaperEvent
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.fresh_trades import MATCHED, FreshTrades
from makerd.venues.replay.messages import RecordingGap, ReplayEvent

NS_PER_S = 1_000_000_000
READ_AHEAD_NS = 5 * NS_PER_S
"""How far past the replay's clock the recording is read, for the books the exchange held
before they were received: well past any feed latency of a usable recording (the real
excerpt's longest is 0.77 s). A book received later than this after it happened is
handed over late, and orders in between are judged against the book before it."""


class EmptyRecordingError(ValueError):
    """The recordings hold no event of the coin to replay."""


Delivered = BookSnapshotReceived | TradePrinted | FeedMessageDropped | PaperEvent
Recorded = BookSnapshotReceived | TradePrinted | FeedMessageDropped


class Matching(Protocol):
    """What matches our orders against the recording: one coin's paper exchange, or a
    basket of them (:mod:`venues.replay.basket`)."""

    def submit(self, command: VenueCommand, now_ns: int) -> None: ...

    def on_book_held(self, book: BookSnapshotReceived) -> None: ...

    def journal_as(self, session_id: int) -> None: ...

    def next_due_ns(self) -> int | None: ...

    def events_until(self, now_ns: int) -> list[PaperEvent]: ...

    @property
    def open_order_count(self) -> int: ...

    @property
    def longest_latency_ns(self) -> int: ...


M = TypeVar("M", bound=Matching)


class RecordingReplay(Generic[M]):
    """A :class:`venues.base.SteppedVenue` over a stream of recorded events.

    :meth:`next_event_ns` tells an event-driven loop when something next happens, so a
    replay never ticks through quiet time. Every recorded event reaches makerd as live
    would deliver it; what the matching sees is the subclass's :meth:`_match`. An event
    stamped earlier than one already replayed (a local clock that stepped back while
    recording) is replayed at once, in file order: the simulated clock cannot go back.

    A file that turns out unreadable after the first event ends the recording there, as
    its end would (:attr:`unreadable` says why): what was read before it is replayed and
    the session ends as a run that stopped, not with the error thrown through the actors.
    """

    exchange: M

    def __init__(self, events: Iterator[ReplayEvent]) -> None:
        self._events = events
        self._ahead: deque[ReplayEvent] = deque()
        """Events read after :attr:`_next`, not replayed yet."""
        self._unheld: dict[str, deque[BookSnapshotReceived]] = {}
        """Each coin's books read but not yet handed over as held (in exchange-time order)."""
        self._read_ns = 0
        self._read_all = False
        self._read_error: RecordingError | None = None
        self._next: ReplayEvent | None = self._read()
        if self._next is None:
            raise EmptyRecordingError("no events to replay")
        self.first_ns = self.last_ns = self._next.ts_local
        self.unreadable: RecordingError | None = None
        """The error that ended the recording before its end, once it was read."""
        self.replayed: Counter[str] = Counter()
        """Events replayed by kind: ``books``, ``trades``, ``trades_before_first_book``,
        ``trades_seen_before``, ``dropped``, ``gaps``; and ``late``, those stamped before
        one already replayed (replayed at once: a clock that stepped back)."""

    @property
    def exhausted(self) -> bool:
        """True once every recorded event has been replayed."""
        return self._next is None

    @property
    def open_order_count(self) -> int:
        """How many of our orders the paper venue holds."""
        return self.exchange.open_order_count

    def journal_as(self, session_id: int) -> None:
        """Fills minted for journal session ``session_id`` (see ``PaperExchange``)."""
        self.exchange.journal_as(session_id)

    def next_event_ns(self) -> int | None:
        """When the next recorded event or paper-exchange event is due (None: nothing left)."""
        venue_due = self.exchange.next_due_ns()
        if self._next is None:
            return venue_due
        recorded = self._next.ts_local
        return recorded if venue_due is None else min(recorded, venue_due)

    def submit(self, command: VenueCommand, now_ns: int) -> None:
        self.exchange.submit(command, now_ns)

    def advance(self, now_ns: int) -> list[object]:
        """Replay the recording up to ``now_ns``; return it merged with the exchange's events."""
        self._hand_over_held_books(now_ns)
        market: list[Delivered] = []
        while self._next is not None and self._next.ts_local <= now_ns:
            event, self._next = self._next, self._read_next()
            if event.ts_local < self.last_ns:
                self.replayed["late"] += 1
            else:
                self.last_ns = event.ts_local
            if isinstance(event, RecordingGap):
                self.replayed["gaps"] += 1
                continue
            self._match(event)
            market.append(event)
        venue_events = self.exchange.events_until(now_ns)
        if not venue_events:  # most steps: a recorded event and nothing of ours
            return list(market)
        merged = heapq.merge(market, venue_events, key=_delivery_time)
        return list(merged)

    def _read_next(self) -> ReplayEvent | None:
        if self._ahead:
            return self._ahead.popleft()
        event = self._read()
        if event is None:
            # Only now, once everything read before the bad line was replayed.
            self.unreadable = self._read_error
        return event

    def _read(self) -> ReplayEvent | None:
        """The recording's next event, its books noted to hand over (None: no more)."""
        if self._read_all:
            return None
        try:
            event = next(self._events, None)
        except RecordingError as error:
            self._read_error = error
            event = None
        if event is None:
            self._read_all = True
            return None
        self._read_ns = event.ts_local
        if type(event) is BookSnapshotReceived:
            self._unheld.setdefault(event.coin, deque()).append(event)
        return event

    def _hand_over_held_books(self, now_ns: int) -> None:
        """Give the exchange every book that happened by ``now_ns``, received or not."""
        horizon_ns = now_ns + READ_AHEAD_NS
        while self._read_ns <= horizon_ns:
            event = self._read()
            if event is None:
                break
            self._ahead.append(event)
        for books in self._unheld.values():
            while books and happened_ns(books[0]) <= now_ns:
                self.exchange.on_book_held(books.popleft())

    def _match(self, event: Recorded) -> None:
        raise NotImplementedError


class ReplayVenue(RecordingReplay[PaperExchange]):
    """One coin's recording against its paper exchange.

    Trades from before the first book, and trades a resubscription sent again, are not
    matched (:mod:`venues.replay.fresh_trades`).
    """

    def __init__(
        self,
        events: Iterator[ReplayEvent],
        instrument: Instrument,
        paper: PaperConfig,
        *,
        latency: OrderLatency | None = None,
    ) -> None:
        """``latency``: the order latencies to draw (default: the config's constants)."""
        super().__init__(events)
        # Trade ids start with the recording's first instant: the same data, the same ids.
        self.exchange = PaperExchange(
            instrument, paper, id_prefix=f"replay{self.first_ns}", latency=latency
        )
        self._fresh = FreshTrades()

    def _match(self, event: Recorded) -> None:
        if isinstance(event, FeedMessageDropped):
            self.replayed["dropped"] += 1
            return
        kind = self._fresh.kind(event)
        self.replayed[kind] += 1
        if kind in MATCHED:
            self.exchange.on_market(event)


def _delivery_time(event: Delivered) -> int:
    return event.ts_local
