"""One local venue for the whole fault suite; each scenario trades its own new account."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.faults.kit import FaultVenue


@pytest.fixture(scope="session")
def venue() -> Iterator[FaultVenue]:
    running = VenueThread(VenueConfig(port=0, auto_provision=True, seed=17, tick_interval_s=0.1))
    running.start()
    yield FaultVenue(running.url)
    running.stop()


@pytest.fixture(autouse=True)
def no_fault_outlives_its_scenario(venue: FaultVenue) -> Iterator[None]:
    venue.clear()
    yield
    venue.clear()
