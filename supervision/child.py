"""The child side of supervision: the handle an incarnation holds and the actor base class.

Each incarnation of a child gets its own :class:`ChildHandle`. Its exits travel through the
handle to the supervisor's queue; the supervisor decides on its own thread, never on the
dying child's thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, final

import pykka

from makerd.supervision.model import ExitKind


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitReport:
    """An incarnation ended; tagged with its generation so stale reports can be ignored."""

    role: str
    generation: int
    kind: ExitKind
    error: BaseException | None


class StartOutcome:
    """Set once by the incarnation's thread: it started, or it failed with an error."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._error: BaseException | None = None

    def succeed(self) -> None:
        self._done.set()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._done.set()

    def wait(self, timeout_s: float) -> bool:
        """True once the start has finished, either way; False if it is still running."""
        return self._done.wait(timeout_s)

    @property
    def error(self) -> BaseException | None:
        """Why the start failed; None if it succeeded (or has not finished)."""
        return self._error


class ChildHandle:
    """What the supervisor gives one incarnation: who it is and how to report its exit.

    Read-only from the child's side. ``report_exit`` is thread-safe and never blocks;
    :class:`SupervisedActor` calls it for you.
    """

    __slots__ = (
        "_actor_urn",
        "_announce",
        "_bind_lock",
        "_generation",
        "_role",
        "_sink",
        "_start",
        "_stop_requested",
        "_superseded",
    )

    def __init__(
        self,
        *,
        role: str,
        generation: int,
        sink: Callable[[ExitReport], None],
        announce: Callable[[pykka.ActorRef[Any]], None] | None = None,
    ) -> None:
        self._announce = announce
        self._role = role
        self._generation = generation
        self._sink = sink
        self._start = StartOutcome()
        self._stop_requested = threading.Event()
        self._superseded = threading.Event()
        self._bind_lock = threading.Lock()
        self._actor_urn: str | None = None

    def __repr__(self) -> str:
        return f"ChildHandle(role={self._role!r}, generation={self._generation})"

    def announce(self, ref: pykka.ActorRef[Any]) -> None:
        """Make the new incarnation reachable by role before its thread runs ``on_start``."""
        if self._announce is not None:
            self._announce(ref)

    @property
    def role(self) -> str:
        """The child's role: the name peers use to find it."""
        return self._role

    @property
    def generation(self) -> int:
        """Which incarnation of the role this is (1 for the first start)."""
        return self._generation

    @property
    def stop_requested(self) -> bool:
        """True once the supervisor has asked this incarnation to stop."""
        return self._stop_requested.is_set()

    @property
    def superseded(self) -> bool:
        """True once the supervisor has given up on this incarnation (hung, or did not stop).

        A thread cannot be killed, so an abandoned incarnation may wake up later: anything
        with external effects (sending orders) should check this first and do nothing.
        """
        return self._superseded.is_set()

    @property
    def actor_urn(self) -> str | None:
        """The URN of the actor built with this handle, once one has been."""
        return self._actor_urn

    def report_exit(self, kind: ExitKind, error: BaseException | None = None) -> None:
        """Tell the supervisor this incarnation ended. Thread-safe, non-blocking."""
        self._sink(ExitReport(role=self._role, generation=self._generation, kind=kind, error=error))

    # Supervisor side. A child has no reason to call these.

    def bind(self, actor_urn: str) -> None:
        """Record the one actor built with this handle; a second one is a wiring bug."""
        with self._bind_lock:
            if self._actor_urn is not None:
                raise RuntimeError(f"{self!r} is already bound to actor {self._actor_urn}")
            self._actor_urn = actor_urn

    def request_stop(self) -> None:
        """Mark the coming stop as asked for, so it is reported as SHUTDOWN."""
        self._stop_requested.set()

    def supersede(self) -> None:
        """Mark this incarnation as given up on; a newer one may already be running."""
        self._superseded.set()

    @property
    def start_outcome(self) -> StartOutcome:
        """Whether ``on_supervised_start`` has finished, and how."""
        return self._start


class SupervisedActor(pykka.ThreadingActor):
    """Base for every supervised actor: reports its own exits to the supervisor.

    Override ``on_supervised_start`` / ``on_supervised_stop`` / ``on_supervised_failure``
    instead of pykka's hooks (which are final here, so the reports cannot be lost).
    Exits are reported as: a raise in ``on_supervised_start`` → START_FAILED (pykka calls
    no other hook then); an exception in a ``tell`` handler → CRASHED; a stop →
    SHUTDOWN when the supervisor asked for it, NORMAL otherwise, or CRASHED when
    ``on_supervised_stop`` raises.
    """

    @staticmethod
    def _create_actor_inbox() -> queue.SimpleQueue[Any]:
        # pykka's default, queue.Queue, pays a Python-level Condition on every put and
        # get; SimpleQueue does both in C, and a hand-off on the tick-to-order path is one
        # of each.
        return queue.SimpleQueue()

    def __init__(self, handle: ChildHandle) -> None:
        super().__init__()
        self.child_handle = handle
        handle.bind(self.actor_urn)
        # Still on the starting thread: peers can address us before our on_start sends
        # anything, so no reply to what we ask for at start is dropped for want of a ref.
        handle.announce(self.actor_ref)

    @final
    def on_start(self) -> None:
        try:
            self.on_supervised_start()
        except Exception as error:
            self.child_handle.start_outcome.fail(error)
            self.child_handle.report_exit(ExitKind.START_FAILED, error)
            raise  # pykka logs it with its traceback and stops the actor
        self.child_handle.start_outcome.succeed()

    @final
    def on_stop(self) -> None:
        kind = ExitKind.SHUTDOWN if self.child_handle.stop_requested else ExitKind.NORMAL
        try:
            self.on_supervised_stop()
        except Exception as error:
            self.child_handle.report_exit(ExitKind.CRASHED, error)
            raise
        # Reported after the cleanup, so a restart never overlaps the old incarnation's stop.
        self.child_handle.report_exit(kind)

    @final
    def on_failure(
        self,
        exception_type: type[BaseException] | None,
        exception_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.on_supervised_failure(exception_value)
        finally:
            self.child_handle.report_exit(ExitKind.CRASHED, exception_value)

    def on_supervised_start(self) -> None:
        """Set up in the actor's thread before any message; a raise fails the start."""

    def on_supervised_stop(self) -> None:
        """Clean up in the actor's thread on a stop (not after a crash)."""

    def on_supervised_failure(self, error: BaseException | None) -> None:
        """Last words in the actor's thread after a crash; the actor is already stopped."""
