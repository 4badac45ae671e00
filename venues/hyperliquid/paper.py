"""Paper trading on Hyperliquid's public market data: no keys, no orders sent anywhere.

The market feed is the live venue's :class:`MarketFeed`, one connection for every coin;
matching is the same :class:`PaperExchange` sim mode uses, one per coin behind one account
(:class:`PaperBasket`), fed only with the public book and trades. All run on one I/O loop
thread, so the paper exchanges are only ever touched from that thread. Funding is the real
market's too, per coin (:mod:`venues.hyperliquid.paper_funding`), and so are the coins'
open-interest caps (:mod:`venues.hyperliquid.paper_caps`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Final

from makerd.config.model import MakerdConfig
from makerd.protocol.clock import Clock
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import (
    BookSnapshotReceived,
    FeedMessageDropped,
    TradesPrinted,
    VenueConnectionChanged,
)
from makerd.protocol.orders import VenueCommand
from makerd.venues.base import EventSink
from makerd.venues.hyperliquid.endpoints import websocket_url
from makerd.venues.hyperliquid.feed import MarketFeed
from makerd.venues.hyperliquid.io_loop import IoLoop
from makerd.venues.hyperliquid.limits import FrameLimits
from makerd.venues.hyperliquid.meta import listed_coins
from makerd.venues.hyperliquid.meta_fetch import fetch_listings
from makerd.venues.hyperliquid.paper_caps import PaperCapWatch
from makerd.venues.hyperliquid.paper_funding import HOURLY_S, PaperFunding
from makerd.venues.hyperliquid.recording import market_recorder
from makerd.venues.hyperliquid.venue import api_url_for, reconnect_policy
from makerd.venues.paper.basket import PaperBasket
from makerd.venues.paper.exchange import PaperExchange

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
        coin_of_cloid: Callable[[str], str | None] | None = None,
        stop_requested: threading.Event | None = None,
    ) -> None:
        """``limits`` bound what the public feed may send (defaults: :class:`FrameLimits`);
        funding is charged every ``funding_interval_s`` (hourly, as on the exchange);
        ``coin_of_cloid`` says which coin a client id belongs to (several coins);
        ``stop_requested`` ends start retries, as live."""
        self._clock = clock
        api_url = api_url_for(config.hyperliquid)
        coins = tuple(spec.coin for spec in config.coin_specs())
        # Retried as live retries: an exchange briefly unreachable at start is not a reason
        # for paper to exit where live would have waited.
        listings = fetch_listings(
            api_url,
            coins,
            retry_for_s=config.hyperliquid.start_retry_s,
            stop_requested=stop_requested,
        )
        self._instruments = tuple(listing.instrument for listing in listings)
        # A fresh prefix per run and coin: trade ids journaled by earlier runs, or minted by
        # another coin's exchange, never collide (the fill tracker drops a repeated id).
        started_ns = clock.now_ns()
        self.basket = PaperBasket(
            {
                instrument.coin: PaperExchange(
                    instrument, config.paper, id_prefix=f"paper-{started_ns}-{instrument.coin}"
                )
                for instrument in self._instruments
            },
            paper=config.paper,
            coin_of_cloid=coin_of_cloid,
        )
        self._io = IoLoop(name="paper-io")
        self._sink: EventSink | None = None
        self.recorder = market_recorder(config.feed.record_dir, self._instruments)
        # One connection carries every coin's book and trades, as in live mode.
        self.feed = MarketFeed(
            ws_url=websocket_url(api_url),
            coins=coins,
            sink=self._on_market,
            policy=reconnect_policy(config.hyperliquid),
            now_ns=clock.now_ns,
            limits=limits,
            listed_coins=tuple(listed_coins(listings)),
            tap=self.recorder,
            monotonic_ns=time.monotonic_ns,
        )
        self.funding = {
            coin: PaperFunding(
                api_url=api_url,
                coin=coin,
                exchange=exchange,
                deliver=self._deliver,
                now_ns=clock.now_ns,
                interval_s=funding_interval_s,
            )
            for coin, exchange in self.basket.exchanges.items()
        }
        self.caps = PaperCapWatch(api_url=api_url, coins=coins, apply=self.basket.cap_open_interest)
        log.info("event=paper_venue url=%s coins=%s", api_url, ",".join(coins))

    @property
    def instrument(self) -> Instrument:
        return self._instruments[0]

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        return self._instruments

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
        self._io.call_soon(self._submit_now, command, name=type(command).__name__)

    def stop(self, *, orders_confirmed_gone: bool = True) -> None:
        self._io.stop()
        if self.recorder is not None:
            self.recorder.stop()

    async def _start_tasks(self) -> None:
        self._io.spawn(self.feed.run(), name="paper-market-feed")
        self._io.spawn(self._step_loop(), name="paper-matching")
        for coin, funding in self.funding.items():
            self._io.spawn(funding.run(), name=f"paper-funding:{coin}")
        self._io.spawn(self.caps.run(), name="paper-open-interest-caps")

    def _submit_now(self, command: VenueCommand) -> None:
        self.basket.submit(command, self._clock.now_ns())

    def _on_market(
        self,
        event: BookSnapshotReceived | TradesPrinted | FeedMessageDropped | VenueConnectionChanged,
    ) -> None:
        if isinstance(event, BookSnapshotReceived):
            self.basket.on_market(event)
        elif isinstance(event, TradesPrinted):
            for trade in event.trades:
                self.basket.on_market(trade)
        self._deliver(event)

    async def _step_loop(self) -> None:
        while True:
            await asyncio.sleep(_STEP_S)
            for event in self.basket.events_until(self._clock.now_ns()):
                self._deliver(event)

    def _deliver(self, event: object) -> None:
        if self._sink is not None:
            self._sink(event)
