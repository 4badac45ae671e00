"""Choose the venue once, when wiring: the actors never know which one they talk to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from config.model import MakerdConfig, Mode
from protocol.clock import Clock
from protocol.instrument import Instrument
from protocol.orders import VenueCommand
from venues.base import VenueEvent
from venues.runner import SteppedVenueThread
from venues.sim.venue import SimVenue, sim_instrument


class UnsupportedModeError(ValueError):
    """The configured mode has no venue in this build."""


@dataclass(slots=True)
class RunningVenue:
    instrument: Instrument
    thread: SteppedVenueThread | None = None

    @property
    def port(self) -> RunningVenue:
        return self

    def submit(self, command: VenueCommand) -> None:
        if self.thread is not None:
            self.thread.submit(command)

    def start(self, sink: Callable[[VenueEvent], None]) -> None:
        if self.thread is not None:
            self.thread.set_sink(sink)
            self.thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.stop()


def build_venue(config: MakerdConfig, *, clock: Clock) -> RunningVenue:
    if config.mode is not Mode.SIM:
        raise UnsupportedModeError(f"mode {config.mode.value!r} is not available yet")
    instrument = sim_instrument(config.sim, config.coin)
    start_ns = clock.now_ns()
    venue = SimVenue(instrument, sim=config.sim, paper=config.paper, start_ns=start_ns)
    # SimVenue's trade ids carry its start time, so journals never see them repeat across runs.
    thread = SteppedVenueThread(venue, clock=clock, step_s=config.sim.step_ms / 1000)
    return RunningVenue(instrument=instrument, thread=thread)
