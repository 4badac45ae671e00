"""Paper trading on Hyperliquid's public market data: no keys, no orders sent anywhere.

The market feed is the live venue's :class:`MarketFeed`; matching is the same
:class:`PaperExchange` sim mode uses, fed only with the public book and trades. Both run
on one I/O loop thread, so the paper exchange is only ever touched from that thread.
Funding is the real market's too (:mod:`venues.hyperliquid.paper_funding`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from config.model import MakerdConfig
from protocol.clock import Clock
from protocol.instrument import Instrument
from protocol.market import (
    BookSnapshotReceived,
    FeedMessageDropped,
    TradePrinted,
    VenueConnectionChanged,
)
from protocol.orders import VenueCommand
from venues.base import EventSink
from venues.hyperliquid.feed import MarketFeed
from venues.hyperliquid.io_loop import IoLoop
from venues.hyperliquid.limits import FrameLimits
from venues.hyperliquid.paper_funding import HOURLY_S, PaperFunding
from venues.hyperliquid.recording import market_recorder
from venues.hyperliquid.rest import websocket_url
from venues.hyperliquid.venue import api_url_for, fetch_instrument, reconnect_policy
from venues.paper.exchange import PaperExchange

log = logging.getLogger("makerd.venue.paper")
_STEP_S: Final = 0.05
_START_TIMEOUT_S: Final = 10.0


class PaperHyperliquidVenue:
    """Real Hyperliquid (or ``makerd venue``) market data, paper matching."""

    def __init__(
        self,
        config: MakerdConfig,
        *,
        clock: Clock,
        limits: FrameLimits | None = None,
        funding_interval_s: float = HOURLY_S,
    ) -> None:
        """``limits`` bound what the public feed may send (defaults: :class:`FrameLimits`);
        funding is charged every ``funding_interval_s`` (hourly, as on the exchange)."""
        self._clock = clock
        api_url = api_url_for(config.hyperliquid)
        self._instrument = fetch_instrument(api_url, config.coin)
        # A fresh prefix per run: trade ids journaled by earlier runs never collide.
        self.exchange = PaperExchange(
            self._instrument, config.paper, id_prefix=f"paper-{clock.now_ns()}"
        )
        self._io = IoLoop(name="paper-io")
        self._sink: EventSink | None = None
        self.recorder = market_recorder(config.feed.record_dir, (self._instrument,))
        self.feed = MarketFeed(
            ws_url=websocket_url(api_url),
            coins=(config.coin,),
            sink=self._on_market,
            policy=reconnect_policy(config.hyperliquid),
            now_ns=clock.now_ns,
            limits=limits,
            tap=self.recorder,
        )
        self.funding = PaperFunding(
            api_url=api_url,
            coin=config.coin,
            exchange=self.exchange,
            deliver=self._deliver,
            now_ns=clock.now_ns,
            interval_s=funding_interval_s,
        )
        log.info("event=paper_venue url=%s coin=%s", api_url, config.coin)

    @property
    def instrument(self) -> Instrument:
        return self._instrument

    @property
    def account_id(self) -> str | None:
        return None  # paper positions live and die with the process

    def start(self, sink: EventSink) -> None:
        self._sink = sink
        if self.recorder is not None:
            self.recorder.start()
        self._io.start()
        self._io.run(self._start_tasks(), timeout_s=_START_TIMEOUT_S)

    def submit(self, command: VenueCommand) -> None:
        self._io.call_soon(self._submit_now, command)

    def stop(self, *, orders_confirmed_gone: bool = True) -> None:
        self._io.stop()
        if self.recorder is not None:
            self.recorder.stop()

    async def _start_tasks(self) -> None:
        self._io.spawn(self.feed.run(), name="paper-market-feed")
        self._io.spawn(self._step_loop(), name="paper-matching")
        self._io.spawn(self.funding.run(), name="paper-funding")

    def _submit_now(self, command: VenueCommand) -> None:
        self.exchange.submit(command, self._clock.now_ns())

    def _on_market(
        self,
        event: BookSnapshotReceived | TradePrinted | FeedMessageDropped | VenueConnectionChanged,
    ) -> None:
        if isinstance(event, BookSnapshotReceived | TradePrinted):
            self.exchange.on_market(event)
        self._deliver(event)

    async def _step_loop(self) -> None:
        while True:
            await asyncio.sleep(_STEP_S)
            for event in self.exchange.events_until(self._clock.now_ns()):
                self._deliver(event)

    def _deliver(self, event: object) -> None:
        if self._sink is not None:
            self._sink(event)
