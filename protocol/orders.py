"""Order commands (imperative) and order events (past tense).

Orders are keyed by a client order id (``cloid``, 128-bit hex as Hyperliquid wants it);
the venue's own order id may change on a modify, so it is data, not identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Final

from makerd.protocol.account import RepairFills
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side

NS_PER_S: Final = 1_000_000_000
ACTION_TTL_NS: Final = 4 * NS_PER_S
"""New risk (placements and modifies) goes out with the exchange's ``expiresAfter`` this long
after the command was decided. An action whose answer never came can therefore not take
effect later than that: a venue report asked after it proves what the action did."""
CLOCK_SKEW_NS: Final = NS_PER_S
"""How far the exchange's clock may run behind ours when judging ``expiresAfter``."""


class TimeInForce(Enum):
    POST_ONLY = "Alo"
    GOOD_TILL_CANCEL = "Gtc"
    IMMEDIATE_OR_CANCEL = "Ioc"


class OrderStatus(Enum):
    PENDING_NEW = "pending_new"
    OPEN = "open"
    PENDING_MODIFY = "pending_modify"
    PENDING_CANCEL = "pending_cancel"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED})


class CancelReason(Enum):
    REQUOTE = "requote"
    RISK = "risk"
    KILL_SWITCH = "kill_switch"
    SHUTDOWN = "shutdown"
    STALE_FEED = "stale_feed"
    ORPHAN = "orphan"
    OPERATOR = "operator"
    """An operator's ``makerd ctl pause|flatten|cancel-all``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteLevel:
    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteTarget:
    """Where the quoter wants resting orders now; empty sides mean "quote nothing"."""

    coin: str
    bids: tuple[QuoteLevel, ...]
    asks: tuple[QuoteLevel, ...]
    book_ts_local: int
    ts_local: int


class TriggerKind(Enum):
    """Hyperliquid's ``tpsl`` value: which way the mark must move to fire the order."""

    TAKE_PROFIT = "tp"
    STOP_LOSS = "sl"


@dataclass(frozen=True, slots=True, kw_only=True)
class Trigger:
    """Keeps an order off the book until the mark price reaches ``price``; then it runs at
    its limit price, immediate-or-cancel when ``is_market`` (Hyperliquid's market TP/SL),
    else as a resting limit order."""

    price: Decimal
    kind: TriggerKind
    is_market: bool = True

    def is_reached(self, side: Side, mark: Decimal) -> bool:
        """True once ``mark`` has reached the trigger of an order on ``side``: a take-profit
        that sells fires at or above its price, a stop-loss that sells at or below it; a
        buying order (closing a short) mirrors both."""
        fires_above = (self.kind is TriggerKind.TAKE_PROFIT) == (side is Side.SELL)
        return mark >= self.price if fires_above else mark <= self.price


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteLevelsRefused:
    """Quote levels the exchange's rules refused before they became orders (counted, logged).

    ``reasons`` holds one entry per refused level: ``below_tick``, ``size_zero``,
    ``below_min_notional``, ``non_finite`` or ``crossed_ladder``.
    """

    coin: str
    reasons: tuple[str, ...]
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    cloid: str
    coin: str
    side: Side
    price: Decimal
    size: Decimal
    tif: TimeInForce = TimeInForce.POST_ONLY
    reduce_only: bool = False
    trigger: Trigger | None = None
    """Set for a take-profit / stop-loss: ``price`` is then the limit used once it fires."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAmendment:
    cloid: str
    price: Decimal
    size: Decimal


def closes(order: OrderRequest) -> bool:
    """A flatten's closing order: reduce-only and immediate-or-cancel, so it cannot rest.
    A reduce-only quote (every quote near a limit is one) or bracket would rest after the
    stop."""
    return order.reduce_only and order.tif is TimeInForce.IMMEDIATE_OR_CANCEL


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceOrders:
    orders: tuple[OrderRequest, ...]
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ModifyOrders:
    amendments: tuple[OrderAmendment, ...]
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrders:
    cloids: tuple[str, ...]
    reason: CancelReason
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAll:
    """Cancel every resting order of ``coin`` at the venue, known to makerd or not, but
    those ``sparing`` names (an order manager's own, when it cancels orphans).

    ``until_gone``: the venue asks again (with backoff) until it has confirmed every
    cancel, for a coin no order_manager is left to ask again for (its supervisor gave up).
    """

    coin: str
    reason: CancelReason
    ts_local: int
    until_gone: bool = False
    sparing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepOrders:
    """A stop's question: cancel every resting order of ``coins``, then report what each
    still has and its position (an ``OpenOrdersReported`` and a ``PositionReported`` per
    coin, asked after this command was sent). One command for every coin, so a venue whose
    answer lists a whole account asks once for all (coin by coin spent the stop's budget).
    """

    coins: tuple[str, ...]
    reason: CancelReason
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestAccountSnapshot:
    """Ask the venue for its open orders and position (answered by two events)."""

    coin: str
    ts_local: int
    again: bool = False
    """A retry with nothing learnt since: an answer already on its way serves it too."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestMargin:
    """Ask the venue for the account's margin (answered by a ``MarginReported``)."""

    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmDeadManSwitch:
    """Have the venue cancel every order at ``cancel_at_ns`` unless armed again before then.

    The watchdog re-arms it only while every actor answers, so orders die at the venue
    if the process dies or hangs. Venues without such a switch ignore it.
    """

    cancel_at_ns: int
    ts_local: int


VenueCommand = (
    PlaceOrders
    | ModifyOrders
    | CancelOrders
    | CancelAll
    | SweepOrders
    | RequestAccountSnapshot
    | RequestMargin
    | ArmDeadManSwitch
    | RepairFills
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted:
    cloid: str
    venue_order_id: int
    coin: str
    side: Side
    price: Decimal
    size: Decimal
    ts_exchange: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderModified:
    """A modify took effect; the venue may have given the order a new id."""

    cloid: str
    venue_order_id: int
    price: Decimal
    size: Decimal
    ts_exchange: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected:
    cloid: str
    reason: RejectReason
    message: str
    ts_exchange: int
    ts_local: int
    retry_after_ns: int = 0
    """For a rate-limit refusal: how long the venue's request budget refuses new risk from
    now (0 = the venue did not say)."""
    coin: str = ""
    """The order's coin, where the refusal's source knew it ("": not said)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModifyRejected:
    """The amendment failed; the original order's state is whatever the venue says next."""

    cloid: str
    reason: RejectReason
    message: str
    ts_exchange: int
    ts_local: int
    retry_after_ns: int = 0
    """As :attr:`OrderRejected.retry_after_ns`."""
    coin: str = ""
    """As :attr:`OrderRejected.coin`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled:
    cloid: str
    reason: CancelReason
    ts_exchange: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRejected:
    """A cancel that failed; never read as "the order was never placed"."""

    cloid: str
    message: str
    ts_exchange: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStateChanged:
    """The order_manager's view of one order moved to a new status."""

    cloid: str
    coin: str
    side: Side
    status: OrderStatus
    price: Decimal
    size: Decimal
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenOrder:
    """One resting order as the venue reports it (for reconciliation)."""

    cloid: str | None
    venue_order_id: int
    coin: str
    side: Side
    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenOrdersReported:
    """The venue's list of open orders, the truth a restarted order_manager rebuilds from."""

    coin: str
    orders: tuple[OpenOrder, ...]
    ts_exchange: int
    ts_local: int
    unsettled_orders: int = 0
    """Orders in new-risk actions that were on their way when the report was asked and had
    not expired: they may still come to rest, so the report cannot prove their absence."""
    asked_mono_ns: int | None = None
    """When asked, on the monotonic clock (live; None in simulated time): listings' order."""


VENUE_COMMAND_TYPES = (
    PlaceOrders,
    ModifyOrders,
    CancelOrders,
    CancelAll,
    SweepOrders,
    RequestAccountSnapshot,
    RequestMargin,
    ArmDeadManSwitch,
    RepairFills,
)


def as_venue_command(message: object) -> VenueCommand:
    """Narrow a routed message to a venue command; anything else is a routing bug."""
    if isinstance(message, VENUE_COMMAND_TYPES):
        return message
    raise TypeError(f"{type(message).__name__} is not a venue command")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadManSwitchArmed:
    """The venue accepted a scheduled cancel: it cancels our orders at ``cancel_at_ns``."""

    cancel_at_ns: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadManSwitchLost:
    """Re-arming the venue's dead-man switch failed ``failures`` times in a row.

    Nothing would cancel our orders at the venue if the process died now, so quotes are
    pulled until a re-arm succeeds (:class:`DeadManSwitchArmed`).
    """

    failures: int
    message: str
    ts_local: int
