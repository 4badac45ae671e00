"""Run a stepped venue (sim, paper matching) on its own thread in real time.

Commands arrive from any actor thread and are queued without blocking; the venue
thread applies them at the next step, advances the venue to the wall clock and hands
every event to the sink (the router), stamped with the time it was handed over. Only
this thread touches the venue object.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import deque
from collections.abc import Callable

from makerd.protocol.clock import Clock
from makerd.protocol.market import together
from makerd.protocol.orders import VenueCommand
from makerd.venues.base import SteppedVenue, VenueEvent

log = logging.getLogger("makerd.venue")


class SteppedVenueThread:
    def __init__(
        self,
        venue: SteppedVenue,
        *,
        clock: Clock,
        step_s: float,
    ) -> None:
        self._venue = venue
        self._clock = clock
        self._step_s = step_s
        self._sink: Callable[[VenueEvent], None] = _nowhere
        self._commands: deque[VenueCommand] = deque()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="venue", daemon=True)
        self.failure: BaseException | None = None
        self.steps = 0

    def set_sink(self, sink: Callable[[VenueEvent], None]) -> None:
        """Where events go; set before :meth:`start`."""
        self._sink = sink

    def start(self) -> None:
        self._thread.start()

    def submit(self, command: VenueCommand) -> None:
        self._commands.append(command)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._step_s):
                self._step()
        except Exception as exc:
            self.failure = exc
            log.exception("event=venue_failed error=%r", exc)

    def _step(self) -> None:
        now = self._clock.now_ns()
        while self._commands:
            self._venue.submit(self._commands.popleft(), now)
        events = self._venue.advance(now)
        # In real time, "local time" is when an event enters the process, not the venue's
        # simulated delivery time on its step grid (up to one step earlier).
        received = self._clock.now_ns()
        # A step's trades of one coin go as one message: one wake-up of each reader.
        for event in together(_received_at(event, received) for event in events):
            self._sink(event)
        self.steps += 1


def _received_at(event: VenueEvent, ts_local: int) -> VenueEvent:
    if dataclasses.is_dataclass(event) and hasattr(event, "ts_local"):
        return dataclasses.replace(event, ts_local=ts_local)  # type: ignore[type-var]
    return event


def _nowhere(_event: VenueEvent) -> None:
    raise RuntimeError("venue thread started without a sink")
