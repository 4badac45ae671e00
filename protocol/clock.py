"""The time source injected into logic and venues; nothing else reads the wall clock."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ns(self) -> int:
        """Nanoseconds since the epoch (simulated or real)."""
        ...


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
