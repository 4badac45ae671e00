"""Who hears what: the one routing table both runtimes use.

Logic returns messages; it never names a recipient except through :class:`Directed`.
The pykka runtime and the deterministic driver deliver by this table, so a message
reaches the same roles in every mode. One exception saves thread wake-ups only: the
pykka runtime's router skips a route its receiver has switched off while it provably
ignores what the route carries (:mod:`actors.route_switch`); the driver, which has no
threads to wake, delivers those messages and the logic ignores them, to the same effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from makerd.protocol.account import (
    FillBooked,
    FillsRepaired,
    FundingPaid,
    OrderFilled,
    PositionChanged,
    PositionMismatch,
    PositionReported,
    RepairFills,
)
from makerd.protocol.control import (
    AllChildrenAlive,
    CancelAllOrders,
    ChildUnresponsive,
    FlattenGaveUp,
    FlattenPosition,
    OperatorCommandApplied,
    ParametersChanged,
    PauseTrading,
    Ping,
    Pong,
    QuoteCycleCompleted,
    ResumeTrading,
    StopTrading,
    TimerFired,
)
from makerd.protocol.market import (
    BookSnapshotReceived,
    BookUpdated,
    FeedMessageDropped,
    FeedRecovered,
    FeedStale,
    TradesPrinted,
    VenueConnectionChanged,
)
from makerd.protocol.orders import (
    ArmDeadManSwitch,
    CancelAll,
    CancelOrders,
    CancelRejected,
    DeadManSwitchArmed,
    DeadManSwitchLost,
    ModifyOrders,
    ModifyRejected,
    OpenOrdersReported,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderRejected,
    OrderStateChanged,
    PlaceOrders,
    QuoteLevelsRefused,
    QuoteTarget,
    RequestAccountSnapshot,
    RequestMargin,
)
from makerd.protocol.rate_limits import RateLimitLifted, RequestBudgetReported
from makerd.protocol.risk import KillSwitchTripped, MarginReported, RiskStateChanged
from makerd.protocol.stranger_orders import StrangerOrderReported

BOOK_FEED = "book_feed"
QUOTER = "quoter"
ORDER_MANAGER = "order_manager"
FILL_TRACKER = "fill_tracker"
RISK_GUARDIAN = "risk_guardian"
WATCHDOG = "watchdog"
VENUE = "venue"
OBSERVER = "observer"
"""The process itself: metrics, status line, sd_notify, shutdown orchestration."""

ACTOR_ROLES = (FILL_TRACKER, RISK_GUARDIAN, ORDER_MANAGER, QUOTER, BOOK_FEED, WATCHDOG)
"""Start order: each role's inputs come from roles started before it or from the venue."""

COIN_ROLES = (ORDER_MANAGER, QUOTER, BOOK_FEED)
"""The market-facing roles: with several coins, each coin has its own, named ``role:COIN``."""


def coin_role(role: str, coin: str) -> str:
    """The name of ``coin``'s incarnation of a per-coin role (several coins only)."""
    return f"{role}:{coin}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Directed:
    """A message for one named role, outside the routing table (pings)."""

    to: str
    message: object


class Logic(Protocol):
    """A plain state machine: one message in, the messages to send out."""

    def handle(self, message: object) -> list[object]: ...


class DeclaresHandled(Protocol):
    """A logic that says which message types it acts on (checked against :data:`ROUTES`)."""

    def handled_types(self) -> frozenset[type]: ...


ROUTES: Mapping[type, tuple[str, ...]] = {
    BookSnapshotReceived: (BOOK_FEED,),
    TradesPrinted: (BOOK_FEED, QUOTER),
    BookUpdated: (QUOTER, FILL_TRACKER, RISK_GUARDIAN, OBSERVER),
    FeedStale: (QUOTER, ORDER_MANAGER, RISK_GUARDIAN, OBSERVER),
    FeedRecovered: (QUOTER, RISK_GUARDIAN, OBSERVER),
    FeedMessageDropped: (OBSERVER,),
    VenueConnectionChanged: (OBSERVER,),
    QuoteTarget: (ORDER_MANAGER, OBSERVER),
    QuoteLevelsRefused: (OBSERVER,),
    PlaceOrders: (VENUE, OBSERVER),
    ModifyOrders: (VENUE, OBSERVER),
    CancelOrders: (VENUE, OBSERVER),
    CancelAll: (VENUE, OBSERVER),
    RequestAccountSnapshot: (VENUE,),
    RequestMargin: (VENUE,),
    MarginReported: (RISK_GUARDIAN, QUOTER, OBSERVER),
    ArmDeadManSwitch: (VENUE,),
    OrderAccepted: (ORDER_MANAGER, OBSERVER),
    OrderModified: (ORDER_MANAGER, OBSERVER),
    OrderRejected: (ORDER_MANAGER, RISK_GUARDIAN, OBSERVER),
    ModifyRejected: (ORDER_MANAGER, RISK_GUARDIAN, OBSERVER),
    OrderCancelled: (ORDER_MANAGER, OBSERVER),
    CancelRejected: (ORDER_MANAGER, OBSERVER),
    OpenOrdersReported: (ORDER_MANAGER, OBSERVER),
    StrangerOrderReported: (ORDER_MANAGER,),
    RequestBudgetReported: (ORDER_MANAGER,),
    OrderStateChanged: (OBSERVER,),
    OrderFilled: (FILL_TRACKER, ORDER_MANAGER),
    PositionReported: (FILL_TRACKER, OBSERVER),
    RepairFills: (VENUE,),
    FillsRepaired: (FILL_TRACKER,),
    FundingPaid: (FILL_TRACKER,),
    PositionMismatch: (OBSERVER,),
    DeadManSwitchArmed: (ORDER_MANAGER, OBSERVER),
    DeadManSwitchLost: (ORDER_MANAGER, OBSERVER),
    RateLimitLifted: (ORDER_MANAGER,),
    FillBooked: (RISK_GUARDIAN, QUOTER, OBSERVER),
    PositionChanged: (QUOTER, ORDER_MANAGER, RISK_GUARDIAN, OBSERVER),
    RiskStateChanged: (QUOTER, ORDER_MANAGER, OBSERVER),
    KillSwitchTripped: (ORDER_MANAGER, OBSERVER),
    StopTrading: (ORDER_MANAGER,),
    PauseTrading: (ORDER_MANAGER,),
    ResumeTrading: (ORDER_MANAGER,),
    FlattenPosition: (ORDER_MANAGER,),
    CancelAllOrders: (ORDER_MANAGER,),
    OperatorCommandApplied: (OBSERVER,),
    FlattenGaveUp: (OBSERVER,),
    ParametersChanged: (QUOTER, ORDER_MANAGER, RISK_GUARDIAN),
    QuoteCycleCompleted: (OBSERVER,),
    Ping: (),
    Pong: (WATCHDOG,),
    ChildUnresponsive: (OBSERVER,),
    AllChildrenAlive: (OBSERVER,),
    TimerFired: (),
}

CONFLATED: frozenset[type] = frozenset(
    {BookSnapshotReceived, BookUpdated, PositionChanged, MarginReported, TimerFired}
)
"""Only the newest of these matters: a slow consumer gets the latest, never a backlog."""


DIRECTED: frozenset[type] = frozenset[type]((TimerFired, Ping))
"""Sent to each role by name (the ticker, the watchdog), never through :data:`ROUTES`."""


def routing_problems(logics: Mapping[str, DeclaresHandled]) -> list[str]:
    """Where :data:`ROUTES` and the roles' declared handlers disagree (empty when they agree).

    A message routed to a role that ignores it wakes an actor for nothing; a handler no
    route feeds is a feature that silently never runs (a reloaded limit that never applies).
    """
    problems: list[str] = []
    for role, logic in logics.items():
        handled = logic.handled_types()
        routed = {kind for kind, roles in ROUTES.items() if role in roles}
        problems.extend(
            f"{kind.__name__} is routed to {role}, which ignores it"
            for kind in sorted(routed - handled, key=lambda k: k.__name__)
        )
        problems.extend(
            f"{role} handles {kind.__name__}, which is never routed to it"
            for kind in sorted(handled - routed - DIRECTED, key=lambda k: k.__name__)
        )
    return problems


def recipients(message: object) -> tuple[str, ...]:
    """The roles a message goes to; unknown types are a programming error."""
    if isinstance(message, Directed):
        return (message.to,)
    try:
        return ROUTES[type(message)]
    except KeyError:
        raise TypeError(f"no route for message type {type(message).__name__}") from None
