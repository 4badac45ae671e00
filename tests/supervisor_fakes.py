"""Hand-written fakes for the supervision tests: children whose behaviour the test controls."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pykka

from makerd.supervisor import (
    ChildHandle,
    ChildSpec,
    Escalation,
    RestartRecord,
    RestartType,
    SupervisedActor,
    Supervisor,
)

WAIT_S = 5.0
"""Upper bound for any wait in these tests; reached only when a test is failing."""

CRASH = "crash"
EXIT = "exit"
PING = "ping"


@dataclass(frozen=True, slots=True)
class Hang:
    """Block the child's thread until ``release`` is set (or WAIT_S passes)."""

    release: threading.Event


class Journal:
    """What the incarnations did, in order, across threads."""

    def __init__(self) -> None:
        self._entries: list[tuple[str, str, int]] = []
        self._changed = threading.Condition()

    def add(self, what: str, role: str, generation: int) -> None:
        with self._changed:
            self._entries.append((what, role, generation))
            self._changed.notify_all()

    def roles(self, what: str) -> list[str]:
        with self._changed:
            return [role for event, role, _ in self._entries if event == what]

    def wait_for_roles(self, what: str, count: int) -> list[str]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.roles(what)) >= count, WAIT_S)
            return self.roles(what)


class FakeChild(SupervisedActor):
    """Crashes, exits, hangs or answers pings when told; may refuse to start."""

    def __init__(
        self,
        handle: ChildHandle,
        *,
        journal: Journal,
        fail_start: bool,
        start_gate: threading.Event | None,
    ) -> None:
        super().__init__(handle)
        self._journal = journal
        self._fail_start = fail_start
        self._start_gate = start_gate

    def on_supervised_start(self) -> None:
        if self._start_gate is not None:
            self._start_gate.wait(WAIT_S)
        if self._fail_start:
            raise ConnectionError(f"{self.child_handle.role} cannot connect")
        self._journal.add("started", self.child_handle.role, self.child_handle.generation)

    def on_supervised_stop(self) -> None:
        self._journal.add("stopped", self.child_handle.role, self.child_handle.generation)

    def on_receive(self, message: Any) -> Any:
        if message == CRASH:
            raise ValueError("boom")
        if message == EXIT:
            self.stop()
            return None
        if message == PING:
            return self.child_handle.generation
        if isinstance(message, Hang):
            message.release.wait(WAIT_S)
            return None
        return super().on_receive(message)


@dataclass
class Nursery:
    """Builds child specs for FakeChild and remembers every handle it was given."""

    journal: Journal = field(default_factory=Journal)
    handles: dict[str, list[ChildHandle]] = field(default_factory=lambda: defaultdict(list))
    failing_starts: dict[str, int] = field(default_factory=dict)
    """Role → how many of its next starts fail (-1: every one)."""
    start_gates: dict[str, threading.Event] = field(default_factory=dict)
    releases: list[threading.Event] = field(default_factory=list)

    def spec(
        self,
        role: str,
        restart: RestartType = RestartType.PERMANENT,
        *,
        shutdown_timeout_s: float = WAIT_S,
        start_timeout_s: float = WAIT_S,
    ) -> ChildSpec:
        return ChildSpec(
            role=role,
            start=self._start,
            restart=restart,
            shutdown_timeout_s=shutdown_timeout_s,
            start_timeout_s=start_timeout_s,
        )

    def hang(self, ref: pykka.ActorRef[Any] | None) -> None:
        """Make that incarnation stop answering, until the test ends."""
        assert ref is not None
        release = threading.Event()
        self.releases.append(release)
        ref.tell(Hang(release))

    def release_all(self) -> None:
        for release in [*self.releases, *self.start_gates.values()]:
            release.set()

    def _start(self, handle: ChildHandle) -> pykka.ActorRef[Any]:
        self.handles[handle.role].append(handle)
        remaining = self.failing_starts.get(handle.role, 0)
        if remaining > 0:
            self.failing_starts[handle.role] = remaining - 1
        return FakeChild.start(
            handle,
            journal=self.journal,
            fail_start=remaining != 0,
            start_gate=self.start_gates.get(handle.role),
        )


class RecordLog:
    """Collects ``on_restart`` records and escalations; lets a test wait for them."""

    def __init__(self) -> None:
        self.records: list[RestartRecord] = []
        self.escalations: list[str] = []
        self._changed = threading.Condition()

    def on_restart(self, record: RestartRecord) -> None:
        with self._changed:
            self.records.append(record)
            self._changed.notify_all()

    def on_escalate(self, escalation: Escalation) -> None:
        with self._changed:
            self.escalations.append(escalation.reason)
            self._changed.notify_all()

    def wait_for_records(self, count: int) -> list[RestartRecord]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.records) >= count, WAIT_S)
            return list(self.records)


class LineWatcher(logging.Handler):
    """Waits for a supervisor log line containing a given text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self._changed:
            self.lines.append(record.getMessage())
            self._changed.notify_all()

    def wait_for(self, *fragments: str) -> bool:
        def seen() -> bool:
            return any(all(f in line for f in fragments) for line in self.lines)

        with self._changed:
            return self._changed.wait_for(seen, WAIT_S)


class FakeMonotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Harness:
    """Everything a supervision test needs, torn down so no actor thread outlives it."""

    def __init__(self) -> None:
        self.nursery = Nursery()
        self.log = RecordLog()
        self.clock = FakeMonotonic()
        self.lines = LineWatcher()
        self._supervisors: list[Supervisor] = []

    def supervisor(self, *specs: ChildSpec, **options: Any) -> Supervisor:
        supervisor = Supervisor(
            specs,
            on_escalate=self.log.on_escalate,
            on_restart=self.log.on_restart,
            monotonic=self.clock,
            **options,
        )
        self._supervisors.append(supervisor)
        return supervisor

    def started(self, *specs: ChildSpec, **options: Any) -> Supervisor:
        supervisor = self.supervisor(*specs, **options)
        supervisor.start()
        return supervisor

    def close(self) -> None:
        self.nursery.release_all()
        for supervisor in self._supervisors:
            supervisor.stop()
        pykka.ActorRegistry.stop_all(timeout=WAIT_S)


def open_harness() -> Iterator[Harness]:
    """Pytest fixture body: ``harness = pytest.fixture(open_harness)`` in a test module."""
    harness = Harness()
    logger = logging.getLogger("makerd.supervisor")
    logger.addHandler(harness.lines)
    previous_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        yield harness
    finally:
        harness.close()
        logger.removeHandler(harness.lines)
        logger.setLevel(previous_level)
