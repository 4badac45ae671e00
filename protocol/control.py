"""Timers, liveness and supervision messages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import ClassVar

from makerd.config.model import OrderManagerConfig, QuotingConfig, RiskConfig
from makerd.protocol.orders import OrderRequest
from makerd.protocol.risk import TradingState


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired:
    """Periodic wake-up; logic reads the time from here, never from the wall clock."""

    ts_local: int
    ts_mono: int | None = None
    """The host's monotonic clock at ``ts_local``, for durations (None: simulated time)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping:
    seq: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Pong:
    role: str
    seq: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildUnresponsive:
    """The watchdog's verdict: ``role`` has not answered a ping for ``silent_for_ns``."""

    role: str
    silent_for_ns: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AllChildrenAlive:
    """Every watched actor answered in time; the service manager may be told so."""

    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteCycleCompleted:
    """The order_manager acted on a quote target (drives READY=1 and the latency histogram)."""

    coin: str
    book_ts_local: int
    commands_sent: int
    reconciled: bool
    """The venue's truth was clean: new quotes could go out (READY=1 waits for one)."""
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StopTrading:
    """Command to the order_manager: cancel everything and place nothing more."""

    reason: str
    flatten: bool
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ParametersChanged:
    """An operator reloaded the config (SIGHUP): the hot-reloadable sections, validated."""

    quoting: QuotingConfig
    order_manager: OrderManagerConfig
    risk: RiskConfig
    """The limits the coin is judged by: the top-level section with its own per-coin
    limits (``coins[i].risk``) over it."""
    ts_local: int
    max_quote_orders: int | None = None
    """The order manager's bound for the new quoting levels (None: unchanged)."""
    coin: str | None = None
    """The coin whose quoting and risk this is (its own overrides applied); None: every coin."""
    account_risk: RiskConfig | None = None
    """The top-level risk section, for the account's own limits (None: ``risk`` is it)."""


class OperatorAction(Enum):
    """What an operator asked of a running makerd (``makerd ctl``); values are the CLI words."""

    PAUSE = "pause"
    RESUME = "resume"
    FLATTEN = "flatten"
    CANCEL_ALL = "cancel-all"


@dataclass(frozen=True, slots=True, kw_only=True)
class PauseTrading:
    """Command to the order_manager: cancel every order and place none until resumed."""

    action: ClassVar[OperatorAction] = OperatorAction.PAUSE
    request_id: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeTrading:
    """Command to the order_manager: lift an operator's pause (risk limits still apply)."""

    action: ClassVar[OperatorAction] = OperatorAction.RESUME
    request_id: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FlattenPosition:
    """Command to the order_manager: pause, then close the position with reduce-only IOCs."""

    action: ClassVar[OperatorAction] = OperatorAction.FLATTEN
    request_id: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAllOrders:
    """Command to the order_manager: cancel every order once; quoting goes on."""

    action: ClassVar[OperatorAction] = OperatorAction.CANCEL_ALL
    request_id: int
    ts_local: int


OperatorCommand = PauseTrading | ResumeTrading | FlattenPosition | CancelAllOrders
OPERATOR_COMMANDS: dict[OperatorAction, type[OperatorCommand]] = {
    command.action: command
    for command in (PauseTrading, ResumeTrading, FlattenPosition, CancelAllOrders)
}


@dataclass(frozen=True, slots=True, kw_only=True)
class FlattenGaveUp:
    """A flatten (an operator's, or a stop's) sent every closing order it may, the last has
    ended, and the position is still open: the order_manager sends no more. A stop waiting
    for flat ends its wait; the operator must close the position on the exchange."""

    coin: str
    position: Decimal
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorCommandApplied:
    """The order_manager's answer to an operator command: what it did, as facts."""

    request_id: int
    coin: str
    """The coin this order_manager quotes (with several coins, each one answers)."""
    action: OperatorAction
    paused: bool
    """Whether quoting is paused now (after the command)."""
    was_paused: bool
    cancelled: int
    """Orders makerd tracked as working that it sent cancels for."""
    position: Decimal
    """The position as the order_manager knew it when it acted."""
    flatten_order: OrderRequest | None
    """The reduce-only IOC sent to close ``position`` (flatten only; None if flat)."""
    risk_state: TradingState
    """The risk guardian's state as the order_manager knew it (a pause lifted is no
    licence to quote while halted)."""
    ts_local: int
