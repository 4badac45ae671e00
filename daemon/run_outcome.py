"""How a run ended, and the exit code that tells the service manager what to do next.

The run records one typed ``Ending`` (the first cause wins: a kill switch tripping while
the supervisor gives up is still a kill switch), and the exit code is a pure function of
it. Only the stop itself may override the cause: orders left open are the most urgent
thing an operator can learn from the exit code.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import Enum

from makerd.config.model import RiskConfig
from makerd.daemon.exit_codes import (
    EXIT_FAILURE,
    EXIT_GAVE_UP,
    EXIT_HUNG,
    EXIT_KILL_SWITCH,
    EXIT_OK,
    EXIT_ORDERS_LEFT,
)


class Ending(Enum):
    STOPPED = "stopped"
    KILL_SWITCH = "kill_switch"
    HUNG = "hung"
    GAVE_UP = "gave_up"
    ORDERS_LEFT = "orders_left"
    START_FAILED = "start_failed"
    """A start step failed: the metrics port taken (before the venue is built), or a step
    after the session began (an actor that would not start): nothing says a restart cannot
    succeed."""


_EXIT_CODES = {
    Ending.STOPPED: EXIT_OK,
    Ending.KILL_SWITCH: EXIT_KILL_SWITCH,
    Ending.HUNG: EXIT_HUNG,
    Ending.GAVE_UP: EXIT_GAVE_UP,
    Ending.ORDERS_LEFT: EXIT_ORDERS_LEFT,
    Ending.START_FAILED: EXIT_FAILURE,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    ending: Ending = Ending.STOPPED
    reason: str = "stopped"


ORDERS_LEFT = Outcome(ending=Ending.ORDERS_LEFT, reason="orders left open")


def exit_code(outcome: Outcome) -> int:
    return _EXIT_CODES[outcome.ending]


def first_cause(current: Outcome, new: Outcome) -> Outcome:
    """The cause that ends the run: whichever came first after a clean run."""
    return new if current.ending is Ending.STOPPED else current


def after_stop(current: Outcome, *, orders_confirmed_gone: bool) -> Outcome:
    return current if orders_confirmed_gone else ORDERS_LEFT


def flattens(outcome: Outcome, risk: RiskConfig) -> bool:
    """Whether the stop also closes the position, as the risk section asks for this ending."""
    if outcome.ending is Ending.KILL_SWITCH:
        return risk.flatten_on_kill
    return outcome.ending is Ending.STOPPED and risk.flatten_on_stop


class OutcomeBox:
    """The run's outcome, written from actor threads and read by the run loop."""

    def __init__(self) -> None:
        self._outcome = Outcome()
        self._lock = threading.Lock()
        self.ending = threading.Event()

    def get(self) -> Outcome:
        with self._lock:
            return self._outcome

    def end(self, ending: Ending, reason: str) -> None:
        """A cause to end the run; the loop wakes up, and the first cause is kept."""
        with self._lock:
            self._outcome = first_cause(self._outcome, Outcome(ending=ending, reason=reason))
        self.ending.set()

    def stopped(self, *, orders_confirmed_gone: bool) -> None:
        with self._lock:
            self._outcome = after_stop(self._outcome, orders_confirmed_gone=orders_confirmed_gone)
