"""The embedded synthetic market and the venue that trades against it (sim mode)."""

from makerd.venues.sim.market import SyntheticMarket
from makerd.venues.sim.venue import SimVenue, sim_instrument

__all__ = ["SimVenue", "SyntheticMarket", "sim_instrument"]
