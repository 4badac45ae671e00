"""A local Hyperliquid-compatible venue (``makerd venue``) for end-to-end tests offline.

It serves ``POST /info``, ``POST /exchange`` and the ``/ws`` WebSocket on one loopback
port, verifies every signature, enforces the exchange's rules with its error texts, and
runs a synthetic market whose background takers really fill resting user orders.
"""

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.faults import FaultRequest
from makerd.venues.hl_local.liquidity import LiquidityConfig
from makerd.venues.hl_local.server import LocalVenue, VenueConfig

__all__ = ["FaultRequest", "LiquidityConfig", "LocalVenue", "VenueConfig", "VenueThread"]
