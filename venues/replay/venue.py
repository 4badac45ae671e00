"""Backtest's venue: recorded market data feeding the paper exchange, on one simulated clock.

The paper exchange sees the recording's books and trades at their local receive times,
exactly as paper mode sees Hyperliquid's live feed, so queue position, partial fills,
fees and both latencies are the paper engine's. Recorded events reach makerd at their
own local time: the feed latency replayed is the recording's.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator

from makerd.config.model import PaperConfig
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookSnapshotReceived, FeedMessageDropped, TradePrinted
from makerd.protocol.orders import VenueCommand
from makerd.venues.paper.exchange import PaperExchange
from makerd.venues.paper.latency import OrderLatency
from makerd.venues.paper.replies import PaperEvent
from makerd.venues.replay.messages import RecordingGap, ReplayEvent


class EmptyRecordingError(ValueError):
    """The recordings hold no event of the coin to replay."""


Delivered = BookSnapshotReceived | TradePrinted | FeedMessageDropped | PaperEvent


class ReplayVenue:
    """A :class:`venues.base.SteppedVenue` over a stream of recorded events.

    :meth:`next_event_ns` tells an event-driven loop when something next happens, so a
    replay never ticks through quiet time. Every recorded event reaches makerd as live
    would deliver it; trades from before the first book are not matched (see
    :meth:`_match`). An event stamped earlier than one already replayed (a local clock
    that stepped back while recording) is replayed at once, in file order: the simulated
    clock cannot go back.
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
        self._events = events
        self._next: ReplayEvent | None = next(events, None)
        if self._next is None:
            raise EmptyRecordingError("no events to replay")
        self.first_ns = self.last_ns = self._next.ts_local
        # Trade ids start with the recording's first instant: the same data, the same ids.
        self.exchange = PaperExchange(
            instrument, paper, id_prefix=f"replay{self.first_ns}", latency=latency
        )
        self.replayed: Counter[str] = Counter()
        """Events replayed by kind: ``books``, ``trades``, ``trades_before_first_book``,
        ``dropped``, ``gaps``."""
        self._books_from_ns: int | None = None

    @property
    def exhausted(self) -> bool:
        """True once every recorded event has been replayed."""
        return self._next is None

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
        market: list[Delivered] = []
        while self._next is not None and self._next.ts_local <= now_ns:
            event, self._next = self._next, next(self._events, None)
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

    def _match(self, event: BookSnapshotReceived | TradePrinted | FeedMessageDropped) -> None:
        if isinstance(event, FeedMessageDropped):
            self.replayed["dropped"] += 1
            return
        if isinstance(event, BookSnapshotReceived):
            if self._books_from_ns is None:
                self._books_from_ns = event.ts_exchange
            self.replayed["books"] += 1
        elif self._books_from_ns is None or event.ts_exchange < self._books_from_ns:
            # The trades a subscription starts with happened before the first book, which
            # already shows their effect: matching them would fill orders twice over.
            self.replayed["trades_before_first_book"] += 1
            return
        else:
            self.replayed["trades"] += 1
        self.exchange.on_market(event)


def _delivery_time(event: Delivered) -> int:
    return event.ts_local
