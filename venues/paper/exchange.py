"""The paper exchange: honest simulated execution driven only by public market data.

It serves sim, paper (real Hyperliquid data) and backtest modes alike, so it learns about
the market only from :class:`BookSnapshotReceived` and :class:`TradePrinted` events — never
from whatever generated them. Latency is modelled on both legs: a command takes effect one
entry latency after it is submitted and sees the book as it is then; what it causes
reaches makerd one acknowledgement latency later (``ts_exchange`` is the effect time,
``ts_local`` the delivery time). Both are the config's constants unless a measured
distribution is given (:mod:`venues.paper.latency`). Times are compared on the local clock
(``ts_local`` of market data), but for a post-only order's check, which is against the
book the exchange held at its arrival when a replay hands that over
(:mod:`venues.paper.held_books`).
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
from decimal import Decimal
from typing import assert_never

from makerd.config.model import PaperConfig
from makerd.protocol.account import RepairFills
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookSnapshotReceived, TradePrinted
from makerd.protocol.order_actions import action_kind
from makerd.protocol.orders import (
    ArmDeadManSwitch,
    CancelAll,
    CancelOrders,
    CancelReason,
    DeadManSwitchArmed,
    ModifyOrders,
    PlaceOrders,
    RequestAccountSnapshot,
    RequestMargin,
    SweepOrders,
    VenueCommand,
)
from makerd.venues.paper.latency import ConstantLatency, OrderLatency
from makerd.venues.paper.margin import PaperAccount
from makerd.venues.paper.matching import MatchingEngine
from makerd.venues.paper.replies import PaperEvent

NS_PER_MS = 1_000_000


class PaperExchange:
    """A single-coin paper venue: ``submit`` commands, feed ``on_market``, collect ``advance``.

    ``id_prefix`` starts every trade id this venue mints (``"<prefix>-<n>"``); give each
    run a distinct prefix so fills journaled by an earlier run are never mistaken for
    duplicates. ``latency`` replaces the config's constant latencies (a backtest drawing
    from a live session's measured ones).
    """

    def __init__(
        self,
        instrument: Instrument,
        config: PaperConfig,
        *,
        id_prefix: str = "paper",
        latency: OrderLatency | None = None,
    ) -> None:
        configured_ack_ns = config.ack_latency_ms * NS_PER_MS
        self._latency = latency or ConstantLatency(
            entry_ns=config.order_entry_latency_ms * NS_PER_MS, ack_ns=configured_ack_ns
        )
        # The engine stamps every answer with the configured latency; a drawn one shifts it.
        self._configured_ack_ns = configured_ack_ns
        self._market_shift_ns = self._latency.market_ack_ns - configured_ack_ns
        self._engine = MatchingEngine(instrument, config, id_prefix=id_prefix)
        self._sequence = itertools.count()
        self._pending: list[tuple[int, int, VenueCommand, int]] = []
        self._outbox: list[tuple[int, int, PaperEvent]] = []
        self._cancel_at_ns: int | None = None
        """The dead-man switch's deadline: every order is cancelled then, unless re-armed."""

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

    @property
    def longest_latency_ns(self) -> int:
        """The longest a command may take from its submission to its answer."""
        return self._latency.longest_ns

    def next_due_ns(self) -> int | None:
        """When the next queued command takes effect or reply is delivered (None: nothing)."""
        # Asked before every step of a replay: two tests, no list.
        pending, outbox = self._pending, self._outbox
        if not pending:
            return outbox[0][0] if outbox else None
        if not outbox:
            return pending[0][0]
        return min(pending[0][0], outbox[0][0])

    def join_account(self, account: PaperAccount) -> None:
        """Share ``account`` with other coins' exchanges: one account's margin (before
        any order)."""
        self._engine.join_account(account)

    def cap_open_interest(self, capped: bool) -> None:
        """The exchange lists (or no longer lists) the coin at its open-interest cap."""
        self._engine.checks.open_interest_capped = capped

    def book_funding(self, amount: Decimal) -> None:
        """A funding payment the position received (negative: paid), in the account's
        value as the venue's balance moves with it."""
        self._engine.funding += amount

    def journal_as(self, session_id: int) -> None:
        """Mint trade ids for journal session ``session_id`` (see the engine's)."""
        self._engine.journal_as(session_id)

    def submit(self, command: VenueCommand, now_ns: int) -> None:
        """Queue a command; it takes effect after the order-entry latency."""
        legs = self._latency.draw(action_kind(command))
        shift_ns = legs.ack_ns - self._configured_ack_ns
        heapq.heappush(
            self._pending, (now_ns + legs.entry_ns, next(self._sequence), command, shift_ns)
        )

    def on_market(self, event: BookSnapshotReceived | TradePrinted) -> None:
        """Feed one market-data event, in time order."""
        # Commands that took effect before this event must see the book it replaces.
        self._run_commands_until(event.ts_local)
        if isinstance(event, BookSnapshotReceived):
            self._deliver(self._engine.on_book(event), self._market_shift_ns)
        else:
            self._deliver(self._engine.on_trade(event), self._market_shift_ns)

    def on_book_held(self, book: BookSnapshotReceived) -> None:
        """The venue held ``book`` from when it happened: handed over by a replay that
        reads ahead, before it is received (:meth:`on_market`), by the time it happened.
        A post-only order is judged against the book held when it arrives."""
        self._engine.held.add(book)

    def advance(self, now_ns: int) -> list[object]:
        """Apply every command due by ``now_ns``; return the events delivered by then."""
        return list(self.events_until(now_ns))

    def events_until(self, now_ns: int) -> list[PaperEvent]:
        """:meth:`advance` with the precise event type, for callers that merge streams."""
        self._run_commands_until(now_ns)
        outbox = self._outbox
        if not outbox or outbox[0][0] > now_ns:  # most steps of a replay
            return []
        delivered: list[PaperEvent] = []
        while outbox and outbox[0][0] <= now_ns:
            delivered.append(heapq.heappop(outbox)[2])
        return delivered

    def _run_commands_until(self, now_ns: int) -> None:
        while self._pending and self._pending[0][0] <= now_ns:
            effect_ns, _, command, shift_ns = heapq.heappop(self._pending)
            self._fire_dead_man_switch(before_ns=effect_ns)
            self._deliver(self._apply(command, effect_ns), shift_ns)
        self._fire_dead_man_switch(before_ns=now_ns)

    def _fire_dead_man_switch(self, *, before_ns: int) -> None:
        """The venue cancels every order once the switch's time passes un-renewed."""
        at_ns = self._cancel_at_ns
        if at_ns is None or at_ns > before_ns:
            return
        self._cancel_at_ns = None
        self._deliver(self._engine.cancel_everything(CancelReason.RISK, at_ns), 0)

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
            return engine.cancel_all(command.coin, command.reason, at_ns, sparing=command.sparing)
        if isinstance(command, RequestAccountSnapshot | RequestMargin | SweepOrders | RepairFills):
            return self._answer(command, at_ns)
        if isinstance(command, ArmDeadManSwitch):
            # As the venue's scheduleCancel: a hung process stops re-arming it, and its
            # orders are cancelled (paper keeps matching while the actors hang).
            self._cancel_at_ns = command.cancel_at_ns
            ack_ns = at_ns + self._configured_ack_ns
            return [DeadManSwitchArmed(cancel_at_ns=command.cancel_at_ns, ts_local=ack_ns)]
        assert_never(command)

    def _answer(
        self,
        question: RequestAccountSnapshot | RequestMargin | SweepOrders | RepairFills,
        at_ns: int,
    ) -> list[PaperEvent]:
        engine = self._engine
        if isinstance(question, RepairFills):
            return []  # paper fills are handed over in-process: none can have been missed
        if isinstance(question, RequestMargin):
            return engine.margin(at_ns)
        if isinstance(question, RequestAccountSnapshot):
            return engine.report(question.coin, at_ns)
        return [
            event
            for coin in question.coins
            for event in [
                *engine.cancel_all(coin, question.reason, at_ns),
                *engine.report(coin, at_ns),
            ]
        ]

    def _deliver(self, events: list[PaperEvent], shift_ns: int) -> None:
        for event in events:
            delivered = (
                dataclasses.replace(event, ts_local=event.ts_local + shift_ns)
                if shift_ns
                else event
            )
            heapq.heappush(self._outbox, (delivered.ts_local, next(self._sequence), delivered))
