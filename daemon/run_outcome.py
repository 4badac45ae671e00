"""How a run ended, and the exit code that tells the service manager what to do next.

The run records one typed ``Ending`` (the first cause wins: a kill switch tripping while
the supervisor gives up is still a kill switch), and the exit code is a pure function of
it. Only the stop itself may override the cause: orders left open are the most urgent
thing an operator can learn from the exit code, then a position a flattening stop left
open (which a kill switch's own code already demands an operator for, so it keeps 80).
Whatever the ending, a position left open is named in the reason the journal's stop row
keeps.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum

from makerd.config.model import RiskConfig
from makerd.daemon.exit_codes import (
    EXIT_FAILURE,
    EXIT_GAVE_UP,
    EXIT_HUNG,
    EXIT_KILL_SWITCH,
    EXIT_OK,
    EXIT_ORDERS_LEFT,
    EXIT_POSITION_LEFT,
)


class Ending(Enum):
    STOPPED = "stopped"
    KILL_SWITCH = "kill_switch"
    HUNG = "hung"
    GAVE_UP = "gave_up"
    ORDERS_LEFT = "orders_left"
    POSITION_LEFT = "position_left"
    """A stop that flattens ended with a position still open at the venue."""
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
    Ending.POSITION_LEFT: EXIT_POSITION_LEFT,
    Ending.START_FAILED: EXIT_FAILURE,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    ending: Ending = Ending.STOPPED
    reason: str = "stopped"
    flattened: bool = False
    """The kill switch's trip closed the position (``KillSwitchTripped.flatten``: with
    ``risk.flatten_on_kill``, or always for an unrealized loss), so the stop waits for it."""


ORDERS_LEFT = Outcome(ending=Ending.ORDERS_LEFT, reason="orders left open")


def exit_code(outcome: Outcome) -> int:
    return _EXIT_CODES[outcome.ending]


def first_cause(current: Outcome, new: Outcome) -> Outcome:
    """The cause that ends the run: whichever came first after a clean run."""
    return new if current.ending is Ending.STOPPED else current


def position_left_open(left_open: Mapping[str, Decimal]) -> str:
    """What the operator is told: "position left open: BTC -0.004, ETH 0.3"."""
    coins = ", ".join(f"{coin} {position}" for coin, position in sorted(left_open.items()))
    return f"position left open: {coins}"


def after_stop(
    current: Outcome,
    *,
    orders_confirmed_gone: bool,
    left_open: Mapping[str, Decimal] | None = None,
) -> Outcome:
    """The outcome once the stop is done: ``left_open`` is each position a flattening stop
    could not close (as the venue read it)."""
    ended = current if orders_confirmed_gone else ORDERS_LEFT
    if not left_open:
        return ended
    if ended.ending is Ending.STOPPED:
        ended = replace(ended, ending=Ending.POSITION_LEFT)
    return replace(ended, reason=f"{ended.reason}; {position_left_open(left_open)}")


def flattens(outcome: Outcome, risk: RiskConfig) -> bool:
    """Whether the stop also closes the position, as the risk section asks for this ending
    or as the kill switch's trip already began to."""
    if outcome.ending is Ending.KILL_SWITCH:
        return outcome.flattened or risk.flatten_on_kill
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

    def end(self, ending: Ending, reason: str, *, flattened: bool = False) -> None:
        """A cause to end the run; the loop wakes up, and the first cause is kept."""
        cause = Outcome(ending=ending, reason=reason, flattened=flattened)
        with self._lock:
            self._outcome = first_cause(self._outcome, cause)
        self.ending.set()

    def stopped(
        self, *, orders_confirmed_gone: bool, left_open: Mapping[str, Decimal] | None = None
    ) -> None:
        with self._lock:
            self._outcome = after_stop(
                self._outcome, orders_confirmed_gone=orders_confirmed_gone, left_open=left_open
            )
