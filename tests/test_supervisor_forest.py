"""A root supervisor and one supervisor per group: a group's give-up stays in the group."""

from __future__ import annotations

import pytest

from makerd.supervision.forest import SupervisorForest
from makerd.supervisor import Supervisor
from tests.supervisor_fakes import CRASH, WAIT_S, Harness, open_harness

harness = pytest.fixture(open_harness)


def forest(harness: Harness) -> SupervisorForest:
    nursery = harness.nursery
    root = harness.supervisor(nursery.spec("fill_tracker"), name="makerd")
    groups = {
        coin: harness.supervisor(
            nursery.spec(f"quoter:{coin}"), max_restarts=0, period_s=60.0, name=f"coin:{coin}"
        )
        for coin in ("BTC", "ETH")
    }
    return SupervisorForest(root, groups)


def crash_until_gone(tree: Supervisor, role: str) -> None:
    ref = tree.ref(role)
    assert ref is not None
    ref.tell(CRASH)
    assert tree.terminated.wait(WAIT_S), f"{role}'s supervisor did not give up"


def test_one_group_giving_up_leaves_the_root_and_the_other_groups_running(
    harness: Harness,
) -> None:
    trees = forest(harness)
    trees.start()

    crash_until_gone(trees.groups["ETH"], "quoter:ETH")

    assert trees.ref("quoter:ETH") is None
    btc, shared = trees.ref("quoter:BTC"), trees.ref("fill_tracker")
    assert btc is not None
    assert btc.is_alive()
    assert shared is not None
    assert shared.is_alive()
    assert not trees.gave_up, "a coin is still quoting"
    assert [child.role for child in trees.which_children()] == [
        "fill_tracker",
        "quoter:BTC",
        "quoter:ETH",
    ]


def test_the_forest_has_given_up_once_every_group_has(harness: Harness) -> None:
    trees = forest(harness)
    trees.start()

    crash_until_gone(trees.groups["ETH"], "quoter:ETH")
    crash_until_gone(trees.groups["BTC"], "quoter:BTC")

    assert trees.gave_up
    assert len(harness.log.escalations) == 2, "each group escalated once, to its own callback"


def test_stop_stops_the_groups_before_the_root(harness: Harness) -> None:
    trees = forest(harness)
    trees.start()

    abandoned = trees.stop()

    assert abandoned == []
    assert harness.nursery.journal.roles("stopped") == ["quoter:ETH", "quoter:BTC", "fill_tracker"]
