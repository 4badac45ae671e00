"""Choose the venue once, when wiring: the actors never know which one they talk to."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from config.model import MakerdConfig, Mode
from protocol.account import OrderFilled
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
    tagged = _RunTagged(venue, run_tag=f"{start_ns:x}")
    thread = SteppedVenueThread(tagged, clock=clock, step_s=config.sim.step_ms / 1000)
    return RunningVenue(instrument=instrument, thread=thread)


class _RunTagged:
    """Make simulated trade ids unique across runs: the journal deduplicates on them."""

    def __init__(self, venue: SimVenue, *, run_tag: str) -> None:
        self._venue = venue
        self._run_tag = run_tag

    def submit(self, command: VenueCommand, now_ns: int) -> None:
        self._venue.submit(command, now_ns)

    def advance(self, now_ns: int) -> list[VenueEvent]:
        return [self._tag(event) for event in self._venue.advance(now_ns)]

    def _tag(self, event: VenueEvent) -> VenueEvent:
        if isinstance(event, OrderFilled):
            return dataclasses.replace(event, trade_id=f"sim-{self._run_tag}-{event.trade_id}")
        return event
