"""What every venue offers the actor system.

A venue takes commands without blocking and reports everything that happens (acks,
rejections, fills, book snapshots, trades) as protocol events through ``advance`` (for
venues that run on a simulated clock) or an event sink (for venues with their own I/O).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import OrderRequest, VenueCommand

VenueEvent = object
EventSink = Callable[[VenueEvent], None]


class SteppedVenue(Protocol):
    """A venue whose time is driven from outside (sim, paper matching, backtest)."""

    def submit(self, command: VenueCommand, now_ns: int) -> None:
        """Queue a command; its effects appear in later ``advance`` results."""
        ...

    def advance(self, now_ns: int) -> list[VenueEvent]:
        """Move the venue to ``now_ns`` and return the events that happened, in order."""
        ...


class ProcessVenue(Protocol):
    """A venue as the running process sees it: real time, its own I/O, events to a sink.

    ``instrument`` is known before ``start`` (live venues read the exchange's ``meta`` while
    being built). ``submit`` never blocks; every answer comes back through the sink.
    """

    @property
    def instrument(self) -> Instrument: ...

    @property
    def account_id(self) -> str | None:
        """The exchange account traded, when it outlives the process (live), else None."""
        ...

    def start(self, sink: EventSink) -> None: ...

    def submit(self, command: VenueCommand) -> None: ...

    def stop(self, *, orders_confirmed_gone: bool = True) -> None:
        """Stop I/O. ``orders_confirmed_gone=False`` leaves the exchange's dead-man switch
        armed, so orders the venue may still hold are cancelled there."""
        ...


class OrderGate(Protocol):
    """Whether a command may leave the process now (the process-wide trading gate)."""

    def allows(self, command: object) -> bool: ...

    def allows_order(self, order: OrderRequest) -> bool:
        """Whether one order of a placement may leave now (once closed: a closing order)."""
        ...

    @property
    def closed(self) -> bool:
        """True once a stop or a kill switch closed it: the account's truth then comes first."""
        ...

    def coin_halted(self, coin: str) -> bool:
        """True once ``coin``'s supervisor gave up: its new risk is refused, cancels pass."""
        ...


class OpenGate:
    """A gate that never closes: for a venue used without a process around it (tests, tools)."""

    def allows(self, command: object) -> bool:
        return True

    def allows_order(self, order: OrderRequest) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return False

    def coin_halted(self, coin: str) -> bool:
        return False


class RateBudget(Protocol):
    @property
    def weight_left(self) -> float: ...

    @property
    def address_requests_left(self) -> int | None: ...


@runtime_checkable
class BudgetedVenue(Protocol):
    """A venue that spends an exchange's request budget (and can say how much is left)."""

    @property
    def budget(self) -> RateBudget: ...


@runtime_checkable
class MultiCoinVenue(Protocol):
    """A venue that trades several coins at once (``instrument`` is the first of them)."""

    @property
    def instruments(self) -> tuple[Instrument, ...]: ...


def venue_instruments(venue: ProcessVenue) -> tuple[Instrument, ...]:
    """Every coin's instrument a venue trades, in the configured order."""
    return venue.instruments if isinstance(venue, MultiCoinVenue) else (venue.instrument,)
