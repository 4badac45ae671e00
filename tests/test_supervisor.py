"""Restart types, strategies, start and stop order of the supervision tree (OTP suite 1-5, 9-12)."""

from __future__ import annotations

import logging

import pykka
import pytest

from makerd.supervision.logline import format_line
from makerd.supervisor import (
    ChildHandle,
    ChildSpec,
    ExitKind,
    RestartType,
    Strategy,
    SupervisedActor,
    Supervisor,
    SupervisorStartError,
)
from tests.supervisor_fakes import (
    CRASH,
    EXIT,
    PING,
    WAIT_S,
    FakeChild,
    Harness,
    open_harness,
)

harness = pytest.fixture(open_harness)


def ping(supervisor: Supervisor, role: str) -> int:
    ref = supervisor.ref(role)
    assert ref is not None, f"{role} has no running incarnation"
    generation: int = ref.ask(PING, block=False).get(timeout=WAIT_S)
    return generation


def test_an_empty_supervisor_starts_and_stops_cleanly(harness: Harness) -> None:
    supervisor = harness.started()

    assert supervisor.stop() == []
    assert supervisor.terminated.is_set()
    assert supervisor.which_children() == []


def test_children_start_in_spec_order_and_answer_by_role(harness: Harness) -> None:
    spec = harness.nursery.spec
    supervisor = harness.started(spec("a"), spec("b"), spec("c"))

    assert harness.nursery.journal.roles("started") == ["a", "b", "c"]
    assert [ping(supervisor, role) for role in ("a", "b", "c")] == [1, 1, 1]
    assert supervisor.ref("nobody") is None
    assert [(c.role, c.status, c.alive) for c in supervisor.which_children()] == [
        ("a", "running", True),
        ("b", "running", True),
        ("c", "running", True),
    ]


def test_a_failed_start_stops_the_started_children_in_reverse_and_names_the_cause(
    harness: Harness,
) -> None:
    spec = harness.nursery.spec
    harness.nursery.failing_starts["c"] = 1
    supervisor = harness.supervisor(spec("a"), spec("b"), spec("c"), spec("d"))

    with pytest.raises(SupervisorStartError, match="'c' failed to start: ConnectionError") as err:
        supervisor.start()

    assert err.value.role == "c"
    assert harness.nursery.journal.roles("stopped") == ["b", "a"]
    assert not any(child.alive for child in supervisor.which_children())
    assert supervisor.terminated.is_set()
    assert pykka.ActorRegistry.get_all() == []


def test_duplicate_roles_are_refused_before_anything_starts(harness: Harness) -> None:
    spec = harness.nursery.spec

    with pytest.raises(ValueError, match="duplicate child roles: a"):
        harness.supervisor(spec("a"), spec("a"))


def test_a_start_function_that_ignores_its_handle_fails_the_start(harness: Harness) -> None:
    stray = ChildHandle(role="stray", generation=1, sink=lambda report: None)
    journal = harness.nursery.journal
    bad = ChildSpec(
        role="bad",
        start=lambda handle: FakeChild.start(
            stray, journal=journal, fail_start=False, start_gate=None
        ),
    )
    supervisor = harness.supervisor(bad)

    with pytest.raises(SupervisorStartError, match="built with its handle"):
        supervisor.start()


def test_a_crashed_permanent_child_is_restarted_with_a_new_ref_and_its_sibling_untouched(
    harness: Harness,
) -> None:
    spec = harness.nursery.spec
    supervisor = harness.started(spec("quoter"), spec("order_manager"))
    old_quoter, sibling = supervisor.ref("quoter"), supervisor.ref("order_manager")
    assert old_quoter is not None

    old_quoter.tell(CRASH)
    [record] = harness.log.wait_for_records(1)

    assert (record.role, record.kind, record.action, record.error) == (
        "quoter",
        ExitKind.CRASHED,
        "restarted",
        "ValueError: boom",
    )
    assert supervisor.ref("quoter") not in (None, old_quoter)
    assert ping(supervisor, "quoter") == 2
    assert supervisor.ref("order_manager") is sibling
    assert supervisor.restarts_in_window == 1


def test_a_permanent_child_that_exits_normally_is_restarted_too(harness: Harness) -> None:
    supervisor = harness.started(harness.nursery.spec("book_feed"))
    ref = supervisor.ref("book_feed")
    assert ref is not None

    ref.tell(EXIT)
    [record] = harness.log.wait_for_records(1)

    assert (record.kind, record.action) == (ExitKind.NORMAL, "restarted")
    assert ping(supervisor, "book_feed") == 2


def test_a_transient_child_that_exits_normally_stays_stopped_but_keeps_its_spec(
    harness: Harness,
) -> None:
    supervisor = harness.started(harness.nursery.spec("flattener", RestartType.TRANSIENT))
    ref = supervisor.ref("flattener")
    assert ref is not None

    ref.tell(EXIT)

    assert harness.lines.wait_for("event=child_exited", "role=flattener", "action=kept_stopped")
    assert supervisor.ref("flattener") is None
    [child] = supervisor.which_children()
    assert (child.role, child.status, child.alive) == ("flattener", "stopped", False)
    assert harness.log.records == []


def test_a_transient_child_that_crashes_is_restarted(harness: Harness) -> None:
    supervisor = harness.started(harness.nursery.spec("flattener", RestartType.TRANSIENT))
    ref = supervisor.ref("flattener")
    assert ref is not None

    ref.tell(CRASH)
    [record] = harness.log.wait_for_records(1)

    assert (record.kind, record.action) == (ExitKind.CRASHED, "restarted")
    assert ping(supervisor, "flattener") == 2


@pytest.mark.parametrize("message", [CRASH, EXIT])
def test_a_temporary_child_is_never_restarted_and_its_spec_is_dropped(
    harness: Harness, message: str
) -> None:
    spec = harness.nursery.spec
    supervisor = harness.started(spec("probe", RestartType.TEMPORARY), spec("quoter"))
    ref = supervisor.ref("probe")
    assert ref is not None

    ref.tell(message)

    assert harness.lines.wait_for("event=child_exited", "role=probe", "action=dropped")
    assert [child.role for child in supervisor.which_children()] == ["quoter"]
    assert supervisor.ref("probe") is None
    assert harness.log.records == []
    assert supervisor.restarts_in_window == 0


def test_rest_for_one_restarts_the_failed_child_and_the_later_ones_in_order(
    harness: Harness,
) -> None:
    spec = harness.nursery.spec
    journal = harness.nursery.journal
    roles = ("c1", "c2", "c3", "c4", "c5")
    supervisor = harness.started(*(spec(r) for r in roles), strategy=Strategy.REST_FOR_ONE)
    before = {role: supervisor.ref(role) for role in roles}
    c3 = before["c3"]
    assert c3 is not None

    c3.tell(CRASH)
    [record] = harness.log.wait_for_records(1)

    assert record.also_restarted == ("c4", "c5")
    assert journal.roles("stopped") == ["c5", "c4"]
    assert journal.roles("started") == [*roles, "c3", "c4", "c5"]
    assert [supervisor.ref(r) is before[r] for r in roles] == [True, True, False, False, False]
    assert not any(before[r].is_alive() for r in ("c3", "c4", "c5"))  # type: ignore[union-attr]
    assert supervisor.restarts_in_window == 1

    supervisor.stop()

    assert journal.roles("stopped") == ["c5", "c4", "c5", "c4", "c3", "c2", "c1"]


def test_one_for_all_restarts_every_child_and_leaves_no_old_ref_alive(harness: Harness) -> None:
    spec = harness.nursery.spec
    supervisor = harness.started(spec("c1"), spec("c2"), strategy=Strategy.ONE_FOR_ALL)
    old = [supervisor.ref("c1"), supervisor.ref("c2")]
    assert old[0] is not None

    old[0].tell(CRASH)
    [record] = harness.log.wait_for_records(1)

    assert (record.role, record.also_restarted) == ("c1", ("c2",))
    assert harness.nursery.journal.roles("stopped") == ["c2"]
    assert [ping(supervisor, "c1"), ping(supervisor, "c2")] == [2, 2]
    assert not any(ref is not None and ref.is_alive() for ref in old)


@pytest.mark.parametrize("strategy", [Strategy.REST_FOR_ONE, Strategy.ONE_FOR_ALL])
def test_a_temporary_bystander_is_stopped_but_not_restarted(
    harness: Harness, strategy: Strategy
) -> None:
    spec = harness.nursery.spec
    supervisor = harness.started(
        spec("c1"), spec("probe", RestartType.TEMPORARY), spec("c3"), strategy=strategy
    )
    c1 = supervisor.ref("c1")
    assert c1 is not None

    c1.tell(CRASH)
    [record] = harness.log.wait_for_records(1)

    assert record.also_restarted == ("c3",)
    assert [child.role for child in supervisor.which_children()] == ["c1", "c3"]
    assert harness.nursery.journal.roles("stopped") == ["c3", "probe"]
    assert supervisor.restarts_in_window == 1


def test_a_late_report_from_a_superseded_generation_is_ignored(harness: Harness) -> None:
    supervisor = harness.started(harness.nursery.spec("quoter"))
    first = supervisor.ref("quoter")
    assert first is not None
    first.tell(CRASH)
    harness.log.wait_for_records(1)
    current = supervisor.ref("quoter")
    old_handle = harness.nursery.handles["quoter"][0]

    old_handle.report_exit(ExitKind.CRASHED, RuntimeError("late news"))

    assert supervisor.wait_until_idle(WAIT_S)
    assert len(harness.log.records) == 1
    assert supervisor.ref("quoter") is current
    assert ping(supervisor, "quoter") == 2


def test_every_restart_is_one_structured_log_line(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="makerd.supervisor")
    spec = harness.nursery.spec
    supervisor = harness.started(
        spec("quoter"),
        spec("order_manager"),
        spec("fill_tracker"),
        strategy=Strategy.REST_FOR_ONE,
    )
    quoter = supervisor.ref("quoter")
    assert quoter is not None

    quoter.tell(CRASH)
    harness.log.wait_for_records(1)

    restarts = [r for r in caplog.records if "event=child_restarted" in r.getMessage()]
    assert [r.getMessage() for r in restarts] == [
        'event=child_restarted role=quoter generation=2 kind=crashed error="ValueError: boom"'
        " restarts_in_window=1 max_restarts=5 period_s=3600 strategy=rest_for_one"
        " action=restarted also_restarted=order_manager,fill_tracker supervisor=makerd"
    ]
    assert restarts[0].levelno == logging.WARNING


def test_stop_stops_children_in_reverse_start_order_and_reports_none_abandoned(
    harness: Harness,
) -> None:
    spec = harness.nursery.spec
    supervisor = harness.started(*(spec(f"c{n}") for n in range(1, 6)))

    abandoned = supervisor.stop()

    assert abandoned == []
    assert harness.nursery.journal.roles("stopped") == ["c5", "c4", "c3", "c2", "c1"]
    assert all(c.status == "stopped" and not c.alive for c in supervisor.which_children())
    assert supervisor.terminated.is_set()
    assert supervisor.stop() == []


def test_an_error_with_quotes_and_newlines_stays_on_one_log_line() -> None:
    line = format_line("child_restarted", {"role": "quoter", "error": 'KeyError: "px"\nnext'})

    assert line == r'event=child_restarted role=quoter error="KeyError: \"px\"\nnext"'
    assert "\n" not in line


class _LooksUpPeers(SupervisedActor):
    """On start, records which roles the supervisor already resolves (itself included)."""

    def __init__(self, handle: ChildHandle, *, seen: dict[str, set[str]], sup: list[Supervisor]):
        super().__init__(handle)
        self._seen = seen
        self._sup = sup

    def on_supervised_start(self) -> None:
        role = self.child_handle.role
        self._seen[role] = {r for r in ("a", "b") if self._sup[0].ref(r) is not None}


def test_a_child_is_reachable_by_role_while_it_starts_and_after() -> None:
    seen: dict[str, set[str]] = {}
    holder: list[Supervisor] = []
    specs = [
        ChildSpec(role=role, start=lambda h: _LooksUpPeers.start(h, seen=seen, sup=holder))
        for role in ("a", "b")
    ]
    supervisor = Supervisor(specs, on_escalate=lambda _reason: None)
    holder.append(supervisor)

    supervisor.start()
    try:
        # Replies to what a child asks for at start must not be dropped for want of a ref.
        assert seen["a"] == {"a"}
        assert seen["b"] == {"a", "b"}
    finally:
        supervisor.stop()
