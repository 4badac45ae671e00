"""The supervisor: OTP restart policy over pykka actors, decided on its own thread.

Children report exits through their handles into the supervisor's queue; one thread drains
it, so every decision (restart, give up, stop) is taken in order and never on the thread of
the child that is dying. Readers (``ref``, ``which_children``) see immutable snapshots that
the supervisor thread replaces after every change, so lookups take no lock.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pykka

from makerd.supervision.child import ExitReport
from makerd.supervision.intensity import RestartIntensity
from makerd.supervision.model import (
    ChildInfo,
    ChildSpec,
    ChildStatus,
    Escalation,
    ExitKind,
    RestartRecord,
    Strategy,
    SupervisorStartError,
    describe_error,
)
from makerd.supervision.policy import RestartPolicy
from makerd.supervision.reporting import RestartReporter
from makerd.supervision.roster import ChildRoster, ChildSlot


@dataclass(frozen=True, slots=True)
class _Unresponsive:
    role: str
    silent_for_s: float


@dataclass(frozen=True, slots=True)
class _RetryRestart:
    role: str
    error: str


@dataclass(frozen=True, slots=True, eq=False)
class _Barrier:
    reached: threading.Event


@dataclass(frozen=True, slots=True)
class _StopRequest:
    pass


_Command = ExitReport | _Unresponsive | _RetryRestart | _Barrier | _StopRequest
_Row = tuple[str, int, "pykka.ActorRef[Any] | None", ChildStatus]


class Supervisor:
    """Starts children in spec order, restarts them by OTP rules, stops them in reverse.

    ``on_escalate(reason)`` is called once, on the supervisor thread, when it gives up
    (restart intensity exceeded, or a child hung again after its replacement) — before
    the children are stopped, so the app can still trip the kill switch and cancel orders.
    ``on_restart(record)`` is called for every restart decision and for the give-up.
    Call ``start`` and ``stop`` from one thread (the process's main thread).
    """

    def __init__(
        self,
        specs: Sequence[ChildSpec],
        *,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        max_restarts: int = 5,
        period_s: float = 3600.0,
        on_escalate: Callable[[Escalation], None],
        on_restart: Callable[[RestartRecord], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        name: str = "makerd",
    ) -> None:
        self.name = name
        self.strategy = strategy
        self.terminated = threading.Event()
        """Set once every child has been stopped (after ``stop()`` or after giving up)."""
        self._intensity = RestartIntensity(max_restarts=max_restarts, period_s=period_s)
        self._monotonic = monotonic
        self._inbox: queue.SimpleQueue[_Command] = queue.SimpleQueue()
        self._starting: dict[str, pykka.ActorRef[Any]] = {}
        self._roster = ChildRoster(specs, self._inbox.put, self._set_starting)
        self._report = RestartReporter(
            name=name,
            strategy=strategy,
            intensity=self._intensity,
            on_restart=on_restart,
            monotonic=monotonic,
        )
        self._policy = RestartPolicy(
            roster=self._roster,
            strategy=strategy,
            intensity=self._intensity,
            report=self._report,
            monotonic=monotonic,
            on_escalate=on_escalate,
            retry_later=lambda role, error: self._inbox.put(_RetryRestart(role, error)),
            publish=self._publish,
            terminated=self.terminated,
        )
        self._refs: dict[str, pykka.ActorRef[Any]] = {}
        self._rows: tuple[_Row, ...] = ()
        self._lifecycle_lock = threading.Lock()
        self._started = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._publish()

    def start(self) -> None:
        """Start every child in spec order, each through its ``on_supervised_start``.

        If one fails, the ones already started are stopped in reverse order and
        :class:`SupervisorStartError` names the role and the cause.
        """
        with self._lifecycle_lock:
            if self._started or self._stopping.is_set():
                raise RuntimeError(f"supervisor {self.name!r} can be started only once")
            self._started = True
            for index, slot in enumerate(self._roster.slots):
                error = self._roster.start(slot)
                if error is not None:
                    self._abort_start(slot, error, started=self._roster.slots[:index])
                    raise SupervisorStartError(slot.role, error) from error
                self._publish()  # each child is reachable by role as soon as it runs
            roles = tuple(slot.role for slot in self._roster.slots)
            self._report.event(logging.INFO, "supervisor_started", children=roles)
            self._thread = threading.Thread(
                target=self._run, name=f"{self.name}-supervisor", daemon=True
            )
            self._thread.start()

    def ref(self, role: str) -> pykka.ActorRef[Any] | None:
        """The current incarnation of ``role`` (also while it starts), or None. Lock-free."""
        ref = self._refs.get(role)
        return ref if ref is not None else self._starting.get(role)

    def _set_starting(self, role: str, ref: pykka.ActorRef[Any] | None) -> None:
        # Copy-on-write, like _publish: readers never see a dict being changed.
        starting = dict(self._starting)
        if ref is None:
            starting.pop(role, None)
        else:
            starting[role] = ref
        self._starting = starting

    def which_children(self) -> list[ChildInfo]:
        """Every child in start order with its generation, liveness and status."""
        return [
            ChildInfo(
                role=role,
                generation=generation,
                alive=ref is not None and ref.is_alive(),
                status=status,
            )
            for role, generation, ref, status in self._rows
        ]

    def report_unresponsive(self, role: str, silent_for_s: float) -> None:
        """From the watchdog: ``role`` has not answered for ``silent_for_s`` seconds."""
        self._inbox.put(_Unresponsive(role, silent_for_s))

    def stop(self) -> list[str]:
        """Stop every child in reverse start order; the roles that did not stop in time.

        Those abandoned threads keep running, so the caller should exit non-zero. Pending
        restarts are dropped. Safe to call again, and after the supervisor gave up.
        """
        if threading.current_thread() is self._thread:
            raise RuntimeError("stop() from the supervisor thread (a callback) would deadlock")
        self._stopping.set()
        with self._lifecycle_lock:
            running = self._thread is not None
        if not running:
            self.terminated.set()
        elif not self.terminated.is_set():
            self._inbox.put(_StopRequest())
        self.terminated.wait()
        return list(self._policy.left_running)

    def wait_until_idle(self, timeout_s: float) -> bool:
        """Block until everything reported before this call has been acted on.

        For tests and orderly shutdown; False if that took longer than ``timeout_s``.
        """
        if self._thread is None or self.terminated.is_set():
            return True
        barrier = _Barrier(threading.Event())
        self._inbox.put(barrier)
        return barrier.reached.wait(timeout_s) or self.terminated.is_set()

    @property
    def restarts_in_window(self) -> int:
        """Restarts counted in the current window (what the intensity limit compares)."""
        return self._intensity.count(self._monotonic())

    @property
    def gave_up(self) -> bool:
        """True once restart intensity was exceeded or a replaced child hung again."""
        return self._policy.gave_up

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            if not self.terminated.is_set():  # only when a BaseException escaped: stop anyway
                self._policy.give_up(
                    role=self.name,
                    generation=0,
                    kind=ExitKind.CRASHED,
                    error=None,
                    reason="supervisor thread died",
                )
            self._release_barriers()

    def _serve(self) -> None:
        while not self.terminated.is_set():
            command = self._inbox.get()
            try:
                self._dispatch(command)
            except Exception as error:
                # A bug here must not leave children unsupervised: escalate and stop them.
                self._report.failure("supervisor_error", error)
                if not self.terminated.is_set():
                    self._policy.give_up(
                        role=self.name,
                        generation=0,
                        kind=ExitKind.CRASHED,
                        error=describe_error(error),
                        reason=f"supervisor error: {describe_error(error)}",
                    )

    def _dispatch(self, command: _Command) -> None:
        if isinstance(command, _Barrier):
            command.reached.set()
        elif isinstance(command, _StopRequest):
            self._policy.shut_down()
        elif self._stopping.is_set():
            return  # a stop request is queued behind this one and takes precedence
        elif isinstance(command, ExitReport):
            self._policy.on_exit_report(command)
        elif isinstance(command, _Unresponsive):
            self._policy.on_unresponsive(command.role, command.silent_for_s)
        else:
            self._policy.on_retry(command.role, command.error)

    def _release_barriers(self) -> None:
        while True:
            try:
                command = self._inbox.get_nowait()
            except queue.Empty:
                return
            if isinstance(command, _Barrier):
                command.reached.set()

    def _abort_start(self, slot: ChildSlot, error: BaseException, started: list[ChildSlot]) -> None:
        self._report.event(
            logging.ERROR,
            "child_start_failed",
            role=slot.role,
            generation=slot.generation,
            error=describe_error(error),
        )
        for earlier in reversed(started):
            if not self._roster.stop(earlier):
                self._policy.left_running.append(earlier.role)
        self._publish()
        self.terminated.set()

    def _publish(self) -> None:
        slots = self._roster.slots
        self._refs = {s.role: s.current.ref for s in slots if s.current is not None}
        self._rows = tuple(
            (s.role, s.generation, s.current.ref if s.current else None, s.status) for s in slots
        )
