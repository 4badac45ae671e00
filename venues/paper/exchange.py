"""The paper exchange: honest simulated execution driven only by public market data.

It serves sim, paper (real Hyperliquid data) and backtest modes alike, so it learns about
the market only from :class:`BookSnapshotReceived` and :class:`TradePrinted` events — never
from whatever generated them. Latency is modelled on both legs: a command takes effect
``order_entry_latency_ms`` after it is submitted and sees the book as it is then; what it
causes reaches makerd ``ack_latency_ms`` later (``ts_exchange`` is the effect time,
``ts_local`` the delivery time). Fills caused by market data are delivered with the same
acknowledgement latency. Times are compared on the local clock (``ts_local`` of market data).
"""

from __future__ import annotations

import heapq
import itertools
from decimal import Decimal
from typing import assert_never

from makerd.config.model import PaperConfig
from makerd.protocol.account import RepairFills
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookSnapshotReceived, TradePrinted
from makerd.protocol.orders import (
    ArmDeadManSwitch,
    CancelAll,
    CancelOrders,
    ModifyOrders,
    PlaceOrders,
    RequestAccountSnapshot,
    RequestMargin,
    VenueCommand,
)
from makerd.venues.paper.matching import MatchingEngine
from makerd.venues.paper.replies import PaperEvent

NS_PER_MS = 1_000_000


class PaperExchange:
    """A single-coin paper venue: ``submit`` commands, feed ``on_market``, collect ``advance``.

    ``id_prefix`` starts every trade id this venue mints (``"<prefix>-<n>"``); give each
    run a distinct prefix so fills journaled by an earlier run are never mistaken for
    duplicates.
    """

    def __init__(
        self, instrument: Instrument, config: PaperConfig, *, id_prefix: str = "paper"
    ) -> None:
        self._entry_ns = config.order_entry_latency_ms * NS_PER_MS
        self._engine = MatchingEngine(instrument, config, id_prefix=id_prefix)
        self._sequence = itertools.count()
        self._pending: list[tuple[int, int, VenueCommand]] = []
        self._outbox: list[tuple[int, int, PaperEvent]] = []

    @property
    def position(self) -> Decimal:
        """The venue's signed position."""
        return self._engine.position.size

    @property
    def average_entry(self) -> Decimal:
        """Average entry price of the open position (zero when flat)."""
        return self._engine.position.average_entry

    @property
    def open_order_count(self) -> int:
        """How many of our orders the venue holds, un-fired triggers included."""
        return len(self._engine.open_orders())

    def next_due_ns(self) -> int | None:
        """When the next queued command takes effect or reply is delivered (None: nothing)."""
        due = [heap[0][0] for heap in (self._pending, self._outbox) if heap]
        return min(due) if due else None

    def submit(self, command: VenueCommand, now_ns: int) -> None:
        """Queue a command; it takes effect after the order-entry latency."""
        effect_ns = now_ns + self._entry_ns
        heapq.heappush(self._pending, (effect_ns, next(self._sequence), command))

    def on_market(self, event: BookSnapshotReceived | TradePrinted) -> None:
        """Feed one market-data event, in time order."""
        # Commands that took effect before this event must see the book it replaces.
        self._run_commands_until(event.ts_local)
        if isinstance(event, BookSnapshotReceived):
            self._deliver(self._engine.on_book(event))
        else:
            self._deliver(self._engine.on_trade(event))

    def advance(self, now_ns: int) -> list[object]:
        """Apply every command due by ``now_ns``; return the events delivered by then."""
        return list(self.events_until(now_ns))

    def events_until(self, now_ns: int) -> list[PaperEvent]:
        """:meth:`advance` with the precise event type, for callers that merge streams."""
        self._run_commands_until(now_ns)
        delivered: list[PaperEvent] = []
        while self._outbox and self._outbox[0][0] <= now_ns:
            delivered.append(heapq.heappop(self._outbox)[2])
        return delivered

    def _run_commands_until(self, now_ns: int) -> None:
        while self._pending and self._pending[0][0] <= now_ns:
            effect_ns, _, command = heapq.heappop(self._pending)
            self._deliver(self._apply(command, effect_ns))

    def _apply(self, command: VenueCommand, at_ns: int) -> list[PaperEvent]:
        engine = self._engine
        if isinstance(command, PlaceOrders):
            return [event for order in command.orders for event in engine.place(order, at_ns)]
        if isinstance(command, ModifyOrders):
            return [
                event for change in command.amendments for event in engine.modify(change, at_ns)
            ]
        if isinstance(command, CancelOrders):
            return [
                event
                for cloid in command.cloids
                for event in engine.cancel(cloid, command.reason, at_ns)
            ]
        if isinstance(command, CancelAll):
            return engine.cancel_all(command.coin, command.reason, at_ns)
        if isinstance(command, RequestAccountSnapshot | RequestMargin):
            return self._answer(command, at_ns)
        if isinstance(command, ArmDeadManSwitch | RepairFills):
            # Paper orders live in this process (they die with it), and its fills are
            # handed over in-process: none can have been missed.
            return []
        assert_never(command)

    def _answer(
        self, question: RequestAccountSnapshot | RequestMargin, at_ns: int
    ) -> list[PaperEvent]:
        if isinstance(question, RequestMargin):
            return self._engine.margin(at_ns)
        return self._engine.report(question.coin, at_ns)

    def _deliver(self, events: list[PaperEvent]) -> None:
        for event in events:
            heapq.heappush(self._outbox, (event.ts_local, next(self._sequence), event))
