"""Hung children and children that will not stop: replaced once, then given up on (OTP 13)."""

from __future__ import annotations

import threading

import pytest

from makerd.supervisor import ExitKind, Supervisor, SupervisorStartError
from tests.supervisor_fakes import PING, WAIT_S, Harness, open_harness

harness = pytest.fixture(open_harness)

QUICK_S = 0.2
"""Shutdown timeout for children these tests expect to be abandoned."""


def hang(harness: Harness, supervisor: Supervisor, role: str) -> None:
    harness.nursery.hang(supervisor.ref(role))


def test_a_hung_child_is_replaced_by_a_new_incarnation_that_answers(harness: Harness) -> None:
    spec = harness.nursery.spec
    supervisor = harness.started(spec("quoter", shutdown_timeout_s=QUICK_S), spec("risk"))
    hung = supervisor.ref("quoter")
    hang(harness, supervisor, "quoter")

    supervisor.report_unresponsive("quoter", silent_for_s=12.0)
    [record] = harness.log.wait_for_records(1)

    assert (record.kind, record.action, record.error) == (
        ExitKind.HUNG,
        "restarted",
        "unresponsive for 12.0s",
    )
    replacement = supervisor.ref("quoter")
    assert replacement not in (None, hung)
    assert replacement is not None
    assert replacement.ask(PING, block=False).get(timeout=WAIT_S) == 2
    assert harness.nursery.handles["quoter"][0].superseded
    assert not harness.nursery.handles["quoter"][1].superseded
    assert supervisor.restarts_in_window == 1
    assert not supervisor.gave_up


def test_a_child_hung_again_within_the_period_makes_the_supervisor_give_up(
    harness: Harness,
) -> None:
    spec = harness.nursery.spec
    supervisor = harness.started(spec("quoter", shutdown_timeout_s=QUICK_S), spec("risk"))
    hang(harness, supervisor, "quoter")
    supervisor.report_unresponsive("quoter", silent_for_s=12.0)
    harness.log.wait_for_records(1)
    hang(harness, supervisor, "quoter")
    harness.clock.advance(600)

    supervisor.report_unresponsive("quoter", silent_for_s=12.0)

    assert supervisor.terminated.wait(WAIT_S)
    assert harness.log.escalations == ["hung: quoter"]
    assert (harness.log.records[-1].kind, harness.log.records[-1].action) == (
        ExitKind.HUNG,
        "gave_up",
    )
    assert supervisor.stop() == ["quoter"]
    assert harness.nursery.journal.roles("stopped") == ["risk"]


def test_a_child_hung_again_after_the_period_is_replaced_again(harness: Harness) -> None:
    supervisor = harness.started(
        harness.nursery.spec("quoter", shutdown_timeout_s=QUICK_S), period_s=60.0
    )
    hang(harness, supervisor, "quoter")
    supervisor.report_unresponsive("quoter", silent_for_s=12.0)
    harness.log.wait_for_records(1)
    hang(harness, supervisor, "quoter")
    harness.clock.advance(61)

    supervisor.report_unresponsive("quoter", silent_for_s=12.0)
    records = harness.log.wait_for_records(2)

    assert [(r.kind, r.action, r.generation) for r in records] == [
        (ExitKind.HUNG, "restarted", 2),
        (ExitKind.HUNG, "restarted", 3),
    ]
    assert harness.log.escalations == []


def test_a_report_about_a_child_without_an_incarnation_changes_nothing(harness: Harness) -> None:
    supervisor = harness.started(harness.nursery.spec("quoter"))

    supervisor.report_unresponsive("nobody", silent_for_s=12.0)

    assert supervisor.wait_until_idle(WAIT_S)
    assert harness.log.records == []
    assert harness.lines.wait_for("event=unresponsive_ignored", "role=nobody")


def test_a_child_that_ignores_stop_is_abandoned_after_its_timeout_and_reported(
    harness: Harness,
) -> None:
    spec = harness.nursery.spec
    supervisor = harness.started(
        spec("first"), spec("stuck", shutdown_timeout_s=QUICK_S), spec("last")
    )
    hang(harness, supervisor, "stuck")

    abandoned = supervisor.stop()

    assert abandoned == ["stuck"]
    assert harness.nursery.journal.roles("stopped") == ["last", "first"]
    statuses = {child.role: child.status for child in supervisor.which_children()}
    assert statuses == {"first": "stopped", "stuck": "abandoned", "last": "stopped"}
    assert harness.nursery.handles["stuck"][0].superseded
    assert harness.lines.wait_for("event=child_abandoned", "role=stuck", "reason=stop_timeout")


def test_a_start_that_does_not_finish_in_time_fails_with_a_timeout(harness: Harness) -> None:
    harness.nursery.start_gates["slow"] = threading.Event()
    supervisor = harness.supervisor(harness.nursery.spec("slow", start_timeout_s=QUICK_S))

    with pytest.raises(SupervisorStartError, match="'slow' failed to start: TimeoutError"):
        supervisor.start()

    assert harness.nursery.handles["slow"][0].superseded
