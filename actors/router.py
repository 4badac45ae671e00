"""Message delivery for the threaded runtime: by role, resolved at send time.

A restarted actor is found again because every send asks the supervisor for the role's
current ref. Conflated messages (books, positions, timer ticks) go through a one-slot
mailbox per (role, kind, key): the newest value replaces an undelivered one and only
one wake-up is ever queued, so inboxes stay bounded whatever the feed rate.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pykka

from makerd.actors.coin_addressing import CoinAddressing
from makerd.actors.gate import TradingGate
from makerd.actors.route_switch import RouteSwitch
from makerd.actors.routing import CONFLATED, OBSERVER, VENUE, Directed, recipients
from makerd.protocol.orders import VenueCommand, as_venue_command

log = logging.getLogger("makerd.router")

SlotKey = tuple[str, type, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class SlotReady:
    """Wake-up for a conflated slot; the shell takes the newest value when it runs."""

    key: SlotKey


class VenuePort(Protocol):
    def submit(self, command: VenueCommand) -> None:
        """Hand a command to the venue; never blocks."""
        ...


class Router:
    def __init__(
        self,
        *,
        resolve: Callable[[str], pykka.ActorRef[Any] | None],
        venue: VenuePort,
        observer: Callable[[object], None],
        gate: TradingGate,
        addressing: CoinAddressing | None = None,
        switches: Mapping[tuple[str, type], RouteSwitch] | None = None,
    ) -> None:
        """``addressing`` names each coin's own actors when there are several coins;
        ``switches`` are the routes (role, message type) their receivers may turn off."""
        self._resolve = resolve
        self._switches = dict(switches or {})
        self._switched_kinds = frozenset(kind for _, kind in self._switches)
        self._addressing = addressing
        self._venue = venue
        self._observer = observer
        self._gate = gate
        self._lock = threading.Lock()
        self._slots: dict[SlotKey, object] = {}
        self._pending: set[SlotKey] = set()
        self.dropped: dict[str, int] = {}

    def dispatch(self, message: object) -> None:
        if isinstance(message, Directed):
            self.tell(message.to, message.message)
            return
        switched = type(message) in self._switched_kinds
        for role in recipients(message):
            if switched and not self._route_on(role, message):
                continue
            if role == VENUE:
                if self._gate.allows(message):
                    self._venue.submit(as_venue_command(message))
            elif role == OBSERVER:
                self._observer(message)
            elif self._addressing is None:
                self.tell(role, message)
            else:
                for name in self._addressing.names(role, message):
                    self.tell(name, message)

    def _route_on(self, role: str, message: object) -> bool:
        switch = self._switches.get((role, type(message)))
        return switch is None or switch.on

    def tell(self, role: str, message: object) -> None:
        if type(message) in CONFLATED:
            self._tell_conflated(role, message)
            return
        self._tell_ref(role, message)

    def take(self, key: SlotKey) -> object | None:
        """The newest value of a slot (None if already taken); re-arms its wake-up."""
        with self._lock:
            self._pending.discard(key)
            return self._slots.pop(key, None)

    def reset(self, role: str) -> None:
        """A new incarnation starts with no wake-ups in flight (the old inbox is gone)."""
        with self._lock:
            self._pending = {key for key in self._pending if key[0] != role}

    def _tell_conflated(self, role: str, message: object) -> None:
        key: SlotKey = (role, type(message), str(getattr(message, "coin", "")))
        with self._lock:
            self._slots[key] = message
            if key in self._pending:
                return
            self._pending.add(key)
        if not self._tell_ref(role, SlotReady(key=key)):
            with self._lock:
                self._pending.discard(key)

    def _tell_ref(self, role: str, message: object) -> bool:
        ref = self._resolve(role)
        if ref is None:
            self._count_drop(role)
            return False
        try:
            ref.tell(message)
        except pykka.ActorDeadError:
            # Between a crash and its restart; the new incarnation rebuilds from the truth.
            self._count_drop(role)
            return False
        return True

    def _count_drop(self, role: str) -> None:
        with self._lock:
            self.dropped[role] = self.dropped.get(role, 0) + 1


def inbox_depth(ref: pykka.ActorRef[Any] | None) -> int:
    """Messages waiting in an actor's inbox (0 for a role that is restarting)."""
    if ref is None:
        return 0
    # The threading inbox is a queue.SimpleQueue (supervision.child); pykka's protocol
    # type does not expose qsize.
    inbox: queue.SimpleQueue[object] = ref.actor_inbox  # type: ignore[assignment]
    return inbox.qsize()
