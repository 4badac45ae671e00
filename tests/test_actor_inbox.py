"""A supervised actor's inbox: what waits in it is counted, handled in order, never lost
silently when the actor stops (the inbox is pykka's, replaced by a lighter queue)."""

from __future__ import annotations

import threading
from typing import Any

import pykka
import pytest

from makerd.actors.router import inbox_depth
from makerd.supervision.child import ExitReport
from makerd.supervisor import ChildHandle, SupervisedActor

WAIT_S = 5.0


class Recorder(SupervisedActor):
    """Holds each message until ``gate`` opens, then notes it."""

    def __init__(
        self, handle: ChildHandle, *, gate: threading.Event, busy: threading.Event
    ) -> None:
        super().__init__(handle)
        self._gate = gate
        self._busy = busy
        self.seen: list[object] = []

    def on_receive(self, message: Any) -> Any:
        self._busy.set()
        self._gate.wait(WAIT_S)
        self.seen.append(message)
        return len(self.seen)


def start_recorder(gate: threading.Event, busy: threading.Event) -> pykka.ActorRef[Recorder]:
    reports: list[ExitReport] = []
    handle = ChildHandle(role="recorder", generation=1, sink=reports.append)
    return Recorder.start(handle, gate=gate, busy=busy)


def test_messages_told_to_a_busy_actor_are_counted_and_then_handled_in_order() -> None:
    gate, busy = threading.Event(), threading.Event()
    ref = start_recorder(gate, busy)
    try:
        ref.tell("first")
        assert busy.wait(WAIT_S)  # taken: the actor now waits on the gate
        for message in ("second", "third", "fourth"):
            ref.tell(message)

        waiting = inbox_depth(ref)
        gate.set()
        handled = ref.ask("fifth", timeout=WAIT_S)

        assert waiting == 3
        assert handled == 5
        assert ref.proxy().seen.get(timeout=WAIT_S) == [
            "first",
            "second",
            "third",
            "fourth",
            "fifth",
        ]
    finally:
        gate.set()
        ref.stop(timeout=WAIT_S)


def test_a_question_still_queued_when_the_actor_stops_is_answered_with_an_error() -> None:
    gate, busy = threading.Event(), threading.Event()
    ref = start_recorder(gate, busy)
    ref.tell("busy")
    stopping = ref.stop(block=False)
    late = ref.ask("after the stop", block=False)

    gate.set()
    stopping.get(timeout=WAIT_S)

    with pytest.raises(pykka.ActorDeadError):
        late.get(timeout=WAIT_S)
    assert inbox_depth(ref) == 0


def test_a_role_that_is_restarting_has_an_empty_inbox() -> None:
    assert inbox_depth(None) == 0
