"""Timers, liveness and supervision messages."""

from __future__ import annotations

from dataclasses import dataclass

from config.model import OrderManagerConfig, QuotingConfig, RiskConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired:
    """Periodic wake-up; logic reads the time from here, never from the wall clock."""

    ts_local: int


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
    ts_local: int
    max_quote_orders: int | None = None
    """The order manager's bound for the new quoting levels (None: unchanged)."""
