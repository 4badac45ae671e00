"""The time source injected into logic and venues; nothing else reads the wall clock."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ns(self) -> int:
        """Nanoseconds since the epoch (simulated or real)."""
        ...


STEP_BACK_NS = 1_000_000_000
"""How far before a wait's start "now" must be to say the host's clock stepped back.
Stamps from different threads reach an actor a little out of order (a timer tick taken a
few ms before the book that began a pause, handled after it): those must not end it."""


def stepped_back(now_ns: int, since_ns: int) -> bool:
    """Whether ``now_ns`` lies so far before ``since_ns`` that the host's wall clock was
    stepped back between the two readings (see :func:`still_waiting`)."""
    return now_ns < since_ns - STEP_BACK_NS


def still_waiting(now_ns: int, since_ns: int, length_ns: int) -> bool:
    """Whether a wait of ``length_ns`` begun at ``since_ns`` still runs at ``now_ns``.

    The actors time their waits (a refresh interval, a retry, a pause, a poll) by the
    wall clock their messages carry. A wait ends when its length has passed, or when the
    host's clock was stepped back past the wait's start (:func:`stepped_back`): how long
    has passed can no longer be told. Ending it there bounds the harm: the wait begins
    again at most once, where counting on would have stretched it by the step's length
    (a minute, or hours after a bad time server's answer). A step forward ends a wait
    early as well; every wait kept this way is one whose early end is safe (the check
    runs again, or the venue is asked).
    """
    return now_ns - since_ns < length_ns and not stepped_back(now_ns, since_ns)


class WallClock:
    """Real time, for live, paper and sim runs."""

    def now_ns(self) -> int:
        return time.time_ns()


class ManualClock:
    """Simulated time, moved only by its owner (the deterministic driver, tests)."""

    def __init__(self, start_ns: int = 1_700_000_000_000_000_000) -> None:
        self._now_ns = start_ns

    def now_ns(self) -> int:
        return self._now_ns

    def advance_to(self, ts_ns: int) -> None:
        if ts_ns < self._now_ns:
            raise ValueError(f"time cannot go backwards: {ts_ns} < {self._now_ns}")
        self._now_ns = ts_ns

    def advance_by(self, delta_ns: int) -> None:
        self.advance_to(self._now_ns + delta_ns)
