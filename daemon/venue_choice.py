"""Choose the venue once, when wiring: the actors never know which one they talk to."""

from __future__ import annotations

import threading
from collections.abc import Callable

from makerd.config.model import MakerdConfig, Mode
from makerd.protocol.clock import Clock
from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import VenueCommand
from makerd.venues.base import EventSink, OrderGate, ProcessVenue, SteppedVenue
from makerd.venues.runner import SteppedVenueThread
from makerd.venues.sim.basket import SimBasket
from makerd.venues.sim.venue import SimVenue, sim_instrument


class UnsupportedModeError(ValueError):
    """The configured mode has no venue in this build."""


class SimProcessVenue:
    """The embedded synthetic market and paper matching, stepped in real time.

    Several coins (asset ids in the order listed) share one thread and one clock; see
    :mod:`venues.sim.basket` for how their prices move together.
    """

    def __init__(
        self,
        config: MakerdConfig,
        *,
        clock: Clock,
        coin_of_cloid: Callable[[str], str | None] | None = None,
    ) -> None:
        coins = [spec.coin for spec in config.coin_specs()]
        self._instruments = tuple(
            sim_instrument(config.sim, coin, asset_id) for asset_id, coin in enumerate(coins)
        )
        # Trade ids carry the start time, so journals never see them repeat.
        venue: SteppedVenue
        if len(coins) == 1 or coin_of_cloid is None:
            venue = SimVenue(
                self._instruments[0], sim=config.sim, paper=config.paper, start_ns=clock.now_ns()
            )
        else:
            venue = SimBasket(
                self._instruments,
                sim=config.sim,
                paper=config.paper,
                start_ns=clock.now_ns(),
                coin_of_cloid=coin_of_cloid,
            )
        self._thread = SteppedVenueThread(venue, clock=clock, step_s=config.sim.step_ms / 1000)

    @property
    def instrument(self) -> Instrument:
        return self._instruments[0]

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        return self._instruments

    @property
    def account_id(self) -> str | None:
        return None  # the sim's account lives and dies with the process

    def start(self, sink: EventSink) -> None:
        self._thread.set_sink(sink)
        self._thread.start()

    def submit(self, command: VenueCommand) -> None:
        self._thread.submit(command)

    def stop(self, *, orders_confirmed_gone: bool = True) -> None:
        self._thread.stop()


class VenueSetupError(UnsupportedModeError):
    """The venue could not be built: no key, unknown coin (a configuration problem)."""


class VenueUnavailableError(Exception):
    """The venue stayed unreachable, slow or refusing for the whole start-up retry time."""


def build_venue(
    config: MakerdConfig,
    *,
    clock: Clock,
    gate: OrderGate | None = None,
    stop_requested: threading.Event | None = None,
    coin_of_cloid: Callable[[str], str | None] | None = None,
) -> ProcessVenue:
    """The one place that knows which venue a mode means (``coin_of_cloid``: several coins)."""
    if config.mode is Mode.SIM:
        return SimProcessVenue(config, clock=clock, coin_of_cloid=coin_of_cloid)
    # Imported here: sim runs need neither the network stack nor the key loader.
    from makerd.venues.hyperliquid.errors import FeedParseError
    from makerd.venues.hyperliquid.meta import UnknownCoinError
    from makerd.venues.hyperliquid.paper import PaperHyperliquidVenue
    from makerd.venues.hyperliquid.rest import VenueRefusedError, VenueUnreachableError
    from makerd.venues.hyperliquid.secrets import PrivateKeyError
    from makerd.venues.hyperliquid.venue import HyperliquidVenue

    try:
        if config.mode is Mode.PAPER:
            return PaperHyperliquidVenue(
                config, clock=clock, coin_of_cloid=coin_of_cloid, stop_requested=stop_requested
            )
        return HyperliquidVenue(config, clock=clock, gate=gate, stop_requested=stop_requested)
    except VenueUnreachableError as error:
        raise VenueUnavailableError(f"{config.mode.value} venue: {error}") from None
    except (PrivateKeyError, UnknownCoinError, VenueRefusedError) as error:
        raise VenueSetupError(f"{config.mode.value} venue: {error}") from None
    except FeedParseError as error:
        # An unreadable meta or perpDexs: this URL does not speak the exchange's API.
        raise VenueSetupError(
            f"{config.mode.value} venue: its answer could not be read ({error})"
        ) from None
