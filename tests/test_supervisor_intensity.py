"""Restart intensity: OTP's add_restart, giving up, and failed restarts (OTP suite 6-8, 11)."""

from __future__ import annotations

import pytest

from makerd.supervision.intensity import RestartIntensity
from makerd.supervisor import ExitKind, Strategy, Supervisor
from tests.supervisor_fakes import CRASH, WAIT_S, Harness, open_harness

harness = pytest.fixture(open_harness)


def crash(supervisor: Supervisor, role: str) -> None:
    ref = supervisor.ref(role)
    assert ref is not None, f"{role} has no running incarnation"
    ref.tell(CRASH)


def test_restarts_up_to_the_intensity_are_allowed_and_one_more_is_not() -> None:
    intensity = RestartIntensity(max_restarts=2, period_s=60.0)

    allowed = [intensity.add_restart(now) for now in (0.0, 1.0, 2.0)]

    assert allowed == [True, True, False]


def test_zero_intensity_gives_up_on_the_first_restart() -> None:
    assert RestartIntensity(max_restarts=0, period_s=60.0).add_restart(0.0) is False


def test_a_restart_exactly_one_period_old_still_counts() -> None:
    intensity = RestartIntensity(max_restarts=1, period_s=10.0)
    intensity.add_restart(100.0)

    assert intensity.add_restart(110.0) is False


def test_a_restart_just_older_than_one_period_no_longer_counts() -> None:
    intensity = RestartIntensity(max_restarts=1, period_s=10.0)
    intensity.add_restart(100.0)

    assert intensity.add_restart(110.001) is True
    assert intensity.count(110.001) == 1


@pytest.mark.parametrize(("max_restarts", "period_s"), [(-1, 1.0), (1, 0.0)])
def test_nonsensical_limits_are_refused(max_restarts: int, period_s: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        RestartIntensity(max_restarts=max_restarts, period_s=period_s)


def test_crashes_spaced_wider_than_the_period_never_exhaust_the_intensity(
    harness: Harness,
) -> None:
    supervisor = harness.started(harness.nursery.spec("book_feed"), max_restarts=1, period_s=1.0)

    for crashes in range(1, 5):
        crash(supervisor, "book_feed")
        harness.log.wait_for_records(crashes)
        harness.clock.advance(2.1)

    assert [r.action for r in harness.log.records] == ["restarted"] * 4
    assert not supervisor.gave_up
    assert harness.log.escalations == []
    assert supervisor.restarts_in_window == 0


def test_exceeding_the_intensity_escalates_once_and_stops_everything_in_reverse_order(
    harness: Harness,
) -> None:
    spec = harness.nursery.spec
    supervisor = harness.started(spec("a"), spec("b"), spec("c"), max_restarts=2)
    crash(supervisor, "a")
    harness.log.wait_for_records(1)
    crash(supervisor, "b")
    harness.log.wait_for_records(2)
    harness.clock.advance(3000)  # still inside the 3600 s window

    crash(supervisor, "a")

    assert supervisor.terminated.wait(WAIT_S)
    assert supervisor.gave_up
    assert harness.log.escalations == [
        "restart intensity exceeded: 3 restarts in 3600s (max 2);"
        " last: a crashed (ValueError: boom)"
    ]
    final = harness.log.records[-1]
    assert (final.role, final.action, final.restarts_in_window) == ("a", "gave_up", 3)
    assert harness.nursery.journal.roles("stopped") == ["c", "b"]
    assert all(child.status == "stopped" for child in supervisor.which_children())
    assert [supervisor.ref(role) for role in "abc"] == [None, None, None]
    assert harness.lines.wait_for("event=supervisor_gave_up", "role=a", "action=gave_up")


def test_after_giving_up_nothing_is_restarted_and_stop_returns_at_once(harness: Harness) -> None:
    supervisor = harness.started(harness.nursery.spec("a"), max_restarts=0)
    first = harness.nursery.handles["a"][0]
    crash(supervisor, "a")
    assert supervisor.terminated.wait(WAIT_S)

    first.report_exit(ExitKind.CRASHED, RuntimeError("again"))
    supervisor.report_unresponsive("a", silent_for_s=30.0)

    assert supervisor.stop() == []
    assert [r.action for r in harness.log.records] == ["gave_up"]
    assert len(harness.log.escalations) == 1
    assert harness.nursery.journal.roles("started") == ["a"]


def test_failed_restart_attempts_count_and_exhaust_the_intensity(harness: Harness) -> None:
    spec = harness.nursery.spec
    supervisor = harness.started(spec("healthy"), spec("feed"), max_restarts=3)
    harness.nursery.failing_starts["feed"] = -1

    crash(supervisor, "feed")

    assert supervisor.terminated.wait(WAIT_S)
    actions = [(r.kind, r.action) for r in harness.log.records]
    assert actions == [
        (ExitKind.CRASHED, "restart_failed"),
        (ExitKind.START_FAILED, "restart_failed"),
        (ExitKind.START_FAILED, "restart_failed"),
        (ExitKind.START_FAILED, "gave_up"),
    ]
    assert harness.log.records[0].start_error == "ConnectionError: feed cannot connect"
    assert len(harness.log.escalations) == 1
    assert harness.nursery.journal.roles("stopped") == ["healthy"]


def test_a_restart_that_fails_once_is_retried_and_succeeds(harness: Harness) -> None:
    supervisor = harness.started(harness.nursery.spec("feed"))
    harness.nursery.failing_starts["feed"] = 1

    crash(supervisor, "feed")
    records = harness.log.wait_for_records(2)

    assert [(r.action, r.generation) for r in records] == [
        ("restart_failed", 2),
        ("restarted", 3),
    ]
    assert supervisor.restarts_in_window == 2
    assert [(c.status, c.generation) for c in supervisor.which_children()] == [("running", 3)]


def test_rest_for_one_retries_only_from_the_sibling_that_failed_to_start(
    harness: Harness,
) -> None:
    spec = harness.nursery.spec
    supervisor = harness.started(spec("c1"), spec("c2"), spec("c3"), strategy=Strategy.REST_FOR_ONE)
    harness.nursery.failing_starts["c2"] = 1

    crash(supervisor, "c1")
    failed, retried = harness.log.wait_for_records(2)

    assert (failed.role, failed.action, failed.start_error) == (
        "c1",
        "restart_failed",
        "c2: ConnectionError: c2 cannot connect",
    )
    assert (retried.role, retried.kind, retried.also_restarted) == (
        "c2",
        ExitKind.START_FAILED,
        ("c3",),
    )
    assert [c.generation for c in supervisor.which_children()] == [2, 3, 2]


def test_one_for_all_retries_by_restarting_every_child_again(harness: Harness) -> None:
    spec = harness.nursery.spec
    supervisor = harness.started(spec("c1"), spec("c2"), strategy=Strategy.ONE_FOR_ALL)
    harness.nursery.failing_starts["c2"] = 1

    crash(supervisor, "c1")
    harness.log.wait_for_records(2)

    assert [c.generation for c in supervisor.which_children()] == [3, 3]
    assert harness.nursery.journal.roles("started") == ["c1", "c2", "c1", "c1", "c2"]
    assert harness.nursery.journal.roles("stopped") == ["c2", "c1"]
