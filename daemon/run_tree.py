"""The session and its supervised tree, each built by one function into a frozen record.

The tree is a circle by nature: the router reaches actors through the supervisor, the
supervisor's children reach the venue through the router, and the supervisor's reports
(restarts, give-ups) land on the observers. ``TreeSlot`` is the one place that circle is
closed: it is filled once, right after the supervisor exists and before anything starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pykka

from makerd.actors.gate import TradingGate
from makerd.actors.route_switch import RouteSwitch, books_to_risk
from makerd.actors.router import Router
from makerd.config.model import MakerdConfig
from makerd.daemon.ack_latencies import AckLatencyLog
from makerd.daemon.basket import Basket
from makerd.daemon.coin_observers import CoinObservers
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.metrics import Metrics
from makerd.daemon.observer import Observer
from makerd.daemon.pause_file import PersistedPause
from makerd.daemon.process_inbox import ProcessInbox
from makerd.daemon.supervision import build_tree
from makerd.daemon.wiring import ConfigHolder, Dependencies
from makerd.protocol.clock import Clock
from makerd.protocol.control import ChildUnresponsive, OperatorCommandApplied
from makerd.protocol.risk import KillSwitchTripped
from makerd.supervision.forest import SupervisorForest
from makerd.supervisor import Escalation, RestartRecord, Supervisor
from makerd.venues.base import ProcessVenue, venue_instruments


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """One journal session on one venue, and the metrics it counts into."""

    journal: Journal
    session_id: int
    venue: ProcessVenue
    coin_metrics: dict[str, Metrics]
    ack_latencies: AckLatencyLog
    """Each order action's measured acknowledgement latency, on its way to the journal."""

    @property
    def metrics(self) -> Metrics:
        """The first coin's metrics: where process-wide counters go."""
        return next(iter(self.coin_metrics.values()))


@dataclass(frozen=True, slots=True, kw_only=True)
class Tree:
    observers: CoinObservers
    router: Router
    supervisor: Supervisor | SupervisorForest

    @property
    def observer(self) -> Observer:
        return self.observers.primary


class TreeSlot:
    """The tree, for the callers that exist before it: filled once, read afterwards."""

    def __init__(self) -> None:
        self._tree: Tree | None = None

    def fill(self, tree: Tree) -> None:
        if self._tree is not None:
            raise RuntimeError("the tree is built once per run")
        self._tree = tree

    def get(self) -> Tree:
        if self._tree is None:
            raise RuntimeError("the tree is not built yet")
        return self._tree

    def ref(self, role: str) -> pykka.ActorRef[Any] | None:
        return self.get().supervisor.ref(role)


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeHooks:
    """What the tree reports upward: to the run, not to any of its own parts."""

    on_unresponsive: Callable[[ChildUnresponsive], None]
    on_alive: Callable[[], None]
    on_kill_switch: Callable[[KillSwitchTripped], None]
    on_operator_command: Callable[[OperatorCommandApplied], None]
    on_escalate: Callable[[Escalation], None]
    on_coin_gave_up: Callable[[str, Escalation], None]
    on_restart: Callable[[RestartRecord], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunParts:
    """What the process holds for the whole run, before any session."""

    config: MakerdConfig
    basket: Basket
    clock: Clock
    gate: TradingGate
    latch: KillSwitchLatch
    holder: ConfigHolder
    pause: PersistedPause


def build_session_tree(parts: RunParts, session: Session, hooks: TreeHooks, slot: TreeSlot) -> Tree:
    """The observers, the router and the supervisor with its children's specs."""
    basket = parts.basket
    venue = session.venue
    addressing = basket.addressing()
    observers = CoinObservers(
        {
            coin: Observer(
                metrics=metrics,
                clock=parts.clock,
                paused=parts.pause.paused,
                coin=coin,
                ack_log=session.ack_latencies,
            )
            for coin, metrics in session.coin_metrics.items()
        },
        coin_of=addressing.coin_of if addressing is not None else lambda _: None,
    )
    books = RouteSwitch()
    deps = Dependencies(
        config=parts.config,
        instrument=venue.instrument,
        journal=session.journal,
        session_id=session.session_id,
        latch=parts.latch,
        new_cloid=basket.cloids.factories[basket.coins[0]],
        clock=parts.clock,
        gate=parts.gate,
        current=parts.holder,
        account=venue.account_id,
        responsible_since_ns=_responsible_since(session.journal, venue.account_id),
        pause=parts.pause,
        books_to_risk=books,
    )
    router = Router(
        resolve=slot.ref,
        venue=venue,
        observer=ProcessInbox(observers if basket.several else observers.primary, hooks),
        gate=parts.gate,
        addressing=addressing,
        switches=books_to_risk(books),
    )
    supervisor = build_tree(
        parts.config,
        deps=deps,
        cloids=basket.cloids,
        instruments=venue_instruments(venue),
        router=router,
        clock=parts.clock,
        on_escalate=hooks.on_escalate,
        on_coin_gave_up=hooks.on_coin_gave_up,
        on_restart=hooks.on_restart,
    )
    tree = Tree(observers=observers, router=router, supervisor=supervisor)
    slot.fill(tree)
    return tree


def _responsible_since(journal: Journal, account: str | None) -> int:
    if account is None:
        return 0
    since = journal.account_since_ns(account)
    return 0 if since is None else since
