"""The vocabulary of the supervision tree: restart types, strategies, exits, specs, records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pykka

    from makerd.supervision.child import ChildHandle


class RestartType(Enum):
    """Which exits of a child bring it back (the OTP restart table)."""

    PERMANENT = "permanent"
    """Always restarted, whatever the exit."""
    TRANSIENT = "transient"
    """Restarted only after an abnormal exit (crashed, hung, failed start)."""
    TEMPORARY = "temporary"
    """Never restarted; its spec is dropped when it exits."""


class Strategy(Enum):
    """Which siblings share a child's restart."""

    ONE_FOR_ONE = "one_for_one"
    """Only the failed child is restarted."""
    REST_FOR_ONE = "rest_for_one"
    """The failed child and every child started after it are restarted."""
    ONE_FOR_ALL = "one_for_all"
    """Every child is restarted."""


class ExitKind(Enum):
    """Why an incarnation of a child ended."""

    NORMAL = "normal"
    """It stopped by itself."""
    SHUTDOWN = "shutdown"
    """The supervisor asked it to stop."""
    CRASHED = "crashed"
    """An exception escaped one of its handlers."""
    HUNG = "hung"
    """The watchdog found it unresponsive; it was abandoned."""
    START_FAILED = "start_failed"
    """Its start function or its ``on_supervised_start`` raised (or did not finish)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Escalation:
    """The supervisor gave up: how the last child ended (HUNG wants a process restart,
    a crash loop does not) and the reason in words."""

    kind: ExitKind
    reason: str


ABNORMAL_EXITS = frozenset({ExitKind.CRASHED, ExitKind.HUNG, ExitKind.START_FAILED})
"""Exits that restart a transient child."""

ChildStatus = Literal["running", "restarting", "stopped", "abandoned"]
RestartAction = Literal["restarted", "restart_failed", "gave_up"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildSpec:
    """How to run one child: its role, how to start an incarnation, when to restart it.

    ``start`` receives the incarnation's :class:`ChildHandle` and must return the ref of a
    started :class:`SupervisedActor` built with that very handle.
    """

    role: str
    start: Callable[[ChildHandle], pykka.ActorRef[Any]]
    restart: RestartType = RestartType.PERMANENT
    shutdown_timeout_s: float = 5.0
    start_timeout_s: float = 10.0
    """How long ``on_supervised_start`` may run before the start counts as failed."""

    def __post_init__(self) -> None:
        if not self.role:
            raise ValueError("child role must not be empty")
        if self.shutdown_timeout_s <= 0:
            raise ValueError(f"{self.role}: shutdown_timeout_s must be > 0")
        if self.start_timeout_s <= 0:
            raise ValueError(f"{self.role}: start_timeout_s must be > 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildInfo:
    """One row of :meth:`Supervisor.which_children`."""

    role: str
    generation: int
    """Incarnation counter: 1 for the first start, +1 for every start attempt after it."""
    alive: bool
    status: ChildStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class RestartRecord:
    """One restart decision, as logged and handed to ``on_restart``.

    ``generation`` is the incarnation left running (``restarted``) or the one that failed
    (``restart_failed``, ``gave_up``). ``restarts_in_window`` includes this restart.
    """

    role: str
    generation: int
    kind: ExitKind
    error: str | None
    restarts_in_window: int
    max_restarts: int
    action: RestartAction
    ts_monotonic: float
    also_restarted: tuple[str, ...] = ()
    """Siblings restarted with it by rest_for_one / one_for_all, in start order."""
    start_error: str | None = None
    """Why the restart attempt failed (``restart_failed`` only)."""


class SupervisorStartError(Exception):
    """A child failed to start during :meth:`Supervisor.start`; nothing is left running."""

    def __init__(self, role: str, cause: BaseException) -> None:
        super().__init__(f"child {role!r} failed to start: {describe_error(cause)}")
        self.role = role
        self.cause = cause


def describe_error(error: BaseException) -> str:
    """``"ValueError: boom"``: the exception type and message, for logs and records."""
    text = str(error)
    name = type(error).__name__
    return f"{name}: {text}" if text else name
