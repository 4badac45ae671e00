"""The exit code a run ends with, as a pure function of how it ended."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from makerd.config.model import RiskConfig
from makerd.daemon.exit_codes import (
    EXIT_GAVE_UP,
    EXIT_HUNG,
    EXIT_KILL_SWITCH,
    EXIT_OK,
    EXIT_ORDERS_LEFT,
    EXIT_POSITION_LEFT,
    STAY_DOWN_CODES,
)
from makerd.daemon.run_outcome import (
    Ending,
    Outcome,
    OutcomeBox,
    after_stop,
    exit_code,
    first_cause,
    flattens,
)

KILL = Outcome(ending=Ending.KILL_SWITCH, reason="kill switch: max_loss: -51")
HUNG = Outcome(ending=Ending.HUNG, reason="quoter hung")
GAVE_UP = Outcome(ending=Ending.GAVE_UP, reason="5 restarts in 60s")
CLEAN = Outcome()


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (CLEAN, EXIT_OK),
        (KILL, EXIT_KILL_SWITCH),
        (HUNG, EXIT_HUNG),
        (GAVE_UP, EXIT_GAVE_UP),
        (Outcome(ending=Ending.ORDERS_LEFT, reason="orders left open"), EXIT_ORDERS_LEFT),
        (Outcome(ending=Ending.POSITION_LEFT, reason="stopped"), EXIT_POSITION_LEFT),
    ],
)
def test_each_ending_has_its_exit_code(outcome: Outcome, code: int) -> None:
    assert exit_code(outcome) == code


def test_every_ending_has_an_exit_code() -> None:
    codes = {exit_code(Outcome(ending=ending)) for ending in Ending}
    assert len(codes) == len(Ending)
    assert {EXIT_KILL_SWITCH, EXIT_GAVE_UP} <= set(STAY_DOWN_CODES)


@pytest.mark.parametrize(
    ("current", "new", "kept"),
    [
        (CLEAN, KILL, KILL),
        (CLEAN, HUNG, HUNG),
        (KILL, GAVE_UP, KILL),
        (GAVE_UP, KILL, GAVE_UP),
        (HUNG, GAVE_UP, HUNG),
        (KILL, CLEAN, KILL),
    ],
)
def test_the_first_cause_wins(current: Outcome, new: Outcome, kept: Outcome) -> None:
    assert first_cause(current, new) == kept


@pytest.mark.parametrize("current", [CLEAN, KILL, HUNG, GAVE_UP])
def test_orders_left_open_override_any_cause(current: Outcome) -> None:
    assert exit_code(after_stop(current, orders_confirmed_gone=False)) == EXIT_ORDERS_LEFT
    assert after_stop(current, orders_confirmed_gone=True) == current


@pytest.mark.parametrize(
    ("current", "orders_gone", "code"),
    [
        (CLEAN, True, EXIT_POSITION_LEFT),
        (KILL, True, EXIT_KILL_SWITCH),
        (CLEAN, False, EXIT_ORDERS_LEFT),
    ],
)
def test_a_position_left_open_is_in_the_reason_and_turns_a_clean_stop_into_86(
    current: Outcome, orders_gone: bool, code: int
) -> None:
    left = {"ETH": Decimal("0.3"), "BTC": Decimal("-0.004")}

    ended = after_stop(current, orders_confirmed_gone=orders_gone, left_open=left)

    assert exit_code(ended) == code
    assert ended.reason.endswith("; position left open: BTC -0.004, ETH 0.3"), ended.reason


def test_a_stop_that_left_nothing_open_keeps_its_outcome() -> None:
    assert after_stop(CLEAN, orders_confirmed_gone=True, left_open={}) == CLEAN


@pytest.mark.parametrize(
    ("outcome", "on_kill", "on_stop", "flatten"),
    [
        (CLEAN, False, False, False),
        (CLEAN, False, True, True),
        (CLEAN, True, False, False),
        (KILL, True, False, True),
        (KILL, False, True, False),
        (HUNG, True, True, False),
        (GAVE_UP, True, True, False),
    ],
)
def test_the_stop_flattens_only_when_the_risk_section_asks(
    outcome: Outcome, on_kill: bool, on_stop: bool, flatten: bool
) -> None:
    risk = RiskConfig(flatten_on_kill=on_kill, flatten_on_stop=on_stop)
    assert flattens(outcome, risk) is flatten


def test_a_kill_switch_whose_trip_closed_the_position_has_the_stop_wait_for_it() -> None:
    # An unrealized loss closes the position without flatten_on_kill: the stop must then
    # wait for it and say what stayed open, as for any flatten.
    loss = Outcome(ending=Ending.KILL_SWITCH, reason="kill switch: unrealized_loss", flattened=True)
    box = OutcomeBox()
    box.end(Ending.KILL_SWITCH, "kill switch: unrealized_loss", flattened=True)

    assert flattens(loss, RiskConfig(flatten_on_kill=False)) is True
    assert box.get() == loss


def test_the_box_keeps_the_first_cause_from_racing_threads_and_wakes_the_loop() -> None:
    box = OutcomeBox()
    assert not box.ending.is_set()
    threads = [
        threading.Thread(target=box.end, args=(Ending.KILL_SWITCH, "kill")),
        threading.Thread(target=box.end, args=(Ending.GAVE_UP, "gave up")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert box.ending.is_set()
    assert box.get().ending in {Ending.KILL_SWITCH, Ending.GAVE_UP}
    first = box.get()
    box.end(Ending.HUNG, "hung")
    assert box.get() == first
    box.stopped(orders_confirmed_gone=False)
    assert exit_code(box.get()) == EXIT_ORDERS_LEFT
