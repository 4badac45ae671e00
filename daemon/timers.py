"""A ticker that wakes every actor on an interval, with the time they should act on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from makerd.protocol.clock import Clock
from makerd.protocol.control import TimerFired


class Ticker:
    def __init__(
        self,
        *,
        clock: Clock,
        interval_s: float,
        roles: tuple[str, ...],
        send: Callable[[str, object], None],
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        """Each tick carries ``clock``'s time and ``monotonic_ns``'s, which durations are
        measured on (a step of the wall clock is not time passing)."""
        self._clock = clock
        self._monotonic_ns = monotonic_ns
        self._interval_s = interval_s
        self._roles = roles
        self._send = send
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ticker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():  # a start that failed before the ticker's never started it
            self._thread.join(2.0)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            tick = TimerFired(ts_local=self._clock.now_ns(), ts_mono=self._monotonic_ns())
            for role in self._roles:
                self._send(role, tick)
