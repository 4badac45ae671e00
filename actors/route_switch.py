"""A route its receiver turns off while it provably ignores what the route carries.

Every message a role ignores still costs a wake-up of its thread, and on the book's path
that thread competes for the GIL with the quoter deciding on the same book. The logic
that would ignore the messages says so (it alone knows its state: a pause still running,
a reloaded limit); the router, on the sender's thread, reads the switch before telling.

A plain bool replaced whole: atomic under the GIL, no lock. A read that races a change
delivers one message that is ignored, or skips one sent as the change was made, which
is no different from that message having arrived just before the change.
"""

from __future__ import annotations

from makerd.actors.routing import RISK_GUARDIAN
from makerd.protocol.market import BookUpdated


class RouteSwitch:
    def __init__(self) -> None:
        self.on = True
        """Deliver (the default: a logic that never says otherwise hears everything)."""


def books_to_risk(switch: RouteSwitch) -> dict[tuple[str, type], RouteSwitch]:
    """The router's ``switches`` for the one route switched today: books to the risk
    guardian (``Dependencies.books_to_risk`` gives the guardian the same switch)."""
    return {(RISK_GUARDIAN, BookUpdated): switch}
