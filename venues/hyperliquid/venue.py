"""Hyperliquid as a :class:`venues.base.ProcessVenue`: live trading and paper trading.

:class:`HyperliquidVenue` loads the key, then reads ``meta`` while being built (so the
instrument is known before anything starts; an unreachable, slow or rate-limiting venue
is retried for ``hyperliquid.start_retry_s``), and then runs the market feed, the user
stream and the order gateway on one uvloop thread. ``submit`` only hands the command to that
thread. :class:`PaperHyperliquidVenue` runs the same market feed, without keys, into the
same :class:`venues.paper.exchange.PaperExchange` that sim mode uses.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Final

from makerd.config.model import HyperliquidConfig, MakerdConfig, Network, OrderTransport
from makerd.protocol.account import OrderFilled, PositionReported, RepairFills
from makerd.protocol.clock import Clock
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookSnapshotReceived
from makerd.protocol.orders import (
    CancelOrders,
    ModifyOrders,
    OpenOrdersReported,
    OrderAccepted,
    OrderModified,
    PlaceOrders,
    VenueCommand,
)
from makerd.protocol.rate_limits import RateLimitLifted, RequestBudgetReported
from makerd.protocol.stranger_orders import StrangerOrderReported
from makerd.venues.base import EventSink, OrderGate, VenueEvent
from makerd.venues.hyperliquid.account_queries import AccountQueries
from makerd.venues.hyperliquid.batching import PlaceBatcher
from makerd.venues.hyperliquid.endpoints import MAINNET_API_URL, TESTNET_API_URL, websocket_url
from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.feed import MarketFeed
from makerd.venues.hyperliquid.io_loop import IoLoop
from makerd.venues.hyperliquid.meta import listed_coins
from makerd.venues.hyperliquid.meta_fetch import fetch_listings
from makerd.venues.hyperliquid.nonces import NonceReservation, NonceSource
from makerd.venues.hyperliquid.orders import OrderGateway
from makerd.venues.hyperliquid.pending_fills import PendingFills
from makerd.venues.hyperliquid.post_channel import PostChannel
from makerd.venues.hyperliquid.probe import SendProbe, SendStage
from makerd.venues.hyperliquid.rate_budget import RateBudget
from makerd.venues.hyperliquid.recording import market_recorder
from makerd.venues.hyperliquid.requests import SignedSender
from makerd.venues.hyperliquid.rest import (
    RateLimitedError,
    RequestLostError,
    RestClient,
)
from makerd.venues.hyperliquid.secrets import load_private_key
from makerd.venues.hyperliquid.signing import L1Signer
from makerd.venues.hyperliquid.state import OrderLegs
from makerd.venues.hyperliquid.user_stream import UserStream
from makerd.venues.hyperliquid.ws_connection import ReconnectPolicy

log = logging.getLogger("makerd.venue")
_START_TIMEOUT_S: Final = 10.0
_STOP_TIMEOUT_S: Final = 5.0
_FILL_HOLD_NS: Final = 2_000_000_000
_HOUSEKEEPING_S: Final = 0.5
_BUDGET_REPORT_S: Final = 60.0


def api_url_for(config: HyperliquidConfig) -> str:
    """The configured base URL, or the official one for the configured network."""
    if config.api_url:
        return config.api_url.rstrip("/")
    return MAINNET_API_URL if config.network is Network.MAINNET else TESTNET_API_URL


def reconnect_policy(config: HyperliquidConfig) -> ReconnectPolicy:
    return ReconnectPolicy(max_backoff_s=config.reconnect_max_backoff_s)


class HyperliquidVenue:
    """Live trading on Hyperliquid (or anything that speaks its API, like ``makerd venue``)."""

    def __init__(
        self,
        config: MakerdConfig,
        *,
        clock: Clock,
        env: Mapping[str, str] = os.environ,
        gate: OrderGate | None = None,
        stop_requested: threading.Event | None = None,
        probe: SendProbe | None = None,
    ) -> None:
        """``gate`` is checked as each order leaves; ``stop_requested`` ends start retries;
        ``probe`` (a benchmark's) hears each order action's way out."""
        hl = config.hyperliquid
        self._clock = clock
        self._coins = tuple(spec.coin for spec in config.coin_specs())
        self._api_url = api_url_for(hl)
        # The key first: a missing or unsafe key is reported before any network request.
        signer = L1Signer(load_private_key(env, key_file=hl.key_file))
        listings = fetch_listings(
            self._api_url, self._coins, retry_for_s=hl.start_retry_s, stop_requested=stop_requested
        )
        self._instruments = tuple(listing.instrument for listing in listings)
        self._instrument = self._instruments[0]
        user = (hl.vault_address or hl.account_address or signer.address).lower()
        self._account_id = f"{self._api_url} {user}"
        log.info(
            "event=live_venue url=%s network=%s signer=%s account=%s",
            self._api_url,
            hl.network.value,
            signer.address,
            user,
        )
        self._io = IoLoop()
        self.budget = RateBudget(weight_per_minute=hl.request_weight_per_minute)
        ws_url = websocket_url(self._api_url)
        policy = reconnect_policy(hl)
        self._posts = (
            PostChannel(url=ws_url, policy=policy, now_ns=clock.now_ns, probe=probe)
            if hl.order_transport is OrderTransport.WEBSOCKET
            else None
        )
        self._rest = RestClient(self._api_url, self.budget, probe=probe, posts=self._posts)
        self._probe = probe
        self._legs = OrderLegs(monotonic_ns=time.monotonic_ns)
        self._pending_fills = PendingFills(hold_ns=_FILL_HOLD_NS)
        self._batches = PlaceBatcher()
        self._sink: EventSink | None = None
        now_ns = clock.now_ns
        self._queries = AccountQueries(
            self._rest, user=user, now_ns=now_ns, monotonic_ns=time.monotonic_ns
        )
        self._sender = SignedSender(
            rest=self._rest,
            signer=signer,
            is_mainnet=hl.network is Network.MAINNET,
            vault_address=hl.vault_address,
            settle=self._settle,
            # Above the last run's nonces even after a step back of the host's clock.
            nonces=NonceSource(now_ns, NonceReservation(config.state_dir, signer.address)),
            probe=probe,
            lifted=self._rate_limit_lifted,
        )
        self.gateway = OrderGateway(
            sender=self._sender,
            instrument=self._instrument,
            legs=self._legs,
            queries=self._queries,
            emit=self._emit,
            settle=self._settle,
            now_ns=now_ns,
            gate=gate,
            dead_man_max_failures=hl.dead_man_max_failures,
            others=self._instruments[1:],
        )
        self.recorder = market_recorder(config.feed.record_dir, self._instruments)
        # One connection carries every coin's book and trades (the exchange limits both
        # connections and subscriptions per IP).
        self.feed = MarketFeed(
            ws_url=ws_url,
            coins=self._coins,
            sink=self._emit,
            policy=policy,
            now_ns=now_ns,
            listed_coins=tuple(listed_coins(listings)),
            tap=self.recorder,
            monotonic_ns=time.monotonic_ns,
        )
        self.user_stream = UserStream(
            ws_url=ws_url,
            coin=config.coin,
            queries=self._queries,
            legs=self._legs,
            emit=self._emit,
            emit_fill=self._emit_fill,
            tasks=self._io,
            policy=policy,
            now_ns=now_ns,
            exchange_now_ns=self.gateway.exchange_now_ns,
            others=self._coins[1:],
        )

    @property
    def instrument(self) -> Instrument:
        return self._instrument

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        return self._instruments

    @property
    def account_id(self) -> str:
        return self._account_id

    def start(self, sink: EventSink) -> None:
        self._sink = sink
        if self.recorder is not None:
            self.recorder.start()
        self._io.start()
        self._io.run(self._start_tasks(), timeout_s=_START_TIMEOUT_S)

    def orders_held(self) -> tuple[str, ...]:
        """The cloids of the orders this adapter believes rest or may yet rest (what it
        keeps per order until the venue ends it): for audits and tests."""
        return tuple(self._legs.live_cloids())

    def submit(self, command: VenueCommand) -> None:
        self._io.call_soon(self._execute, command, name=type(command).__name__)

    def stop(self, *, orders_confirmed_gone: bool = True) -> None:
        if not self._io.running:
            return  # never started: nothing armed, nothing open
        try:
            self._io.run(self._shutdown(disarm=orders_confirmed_gone), timeout_s=_STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning("event=venue_stop_slow timeout_s=%.1f", _STOP_TIMEOUT_S)
        self._io.stop()
        if self.recorder is not None:
            self.recorder.stop()

    async def _start_tasks(self) -> None:
        await self._rest.open()
        if self._posts is not None:
            self._io.spawn(self._posts.run(), name="post-channel")
        self._io.spawn(self.feed.run(), name="market-feed")
        self._io.spawn(self.user_stream.run(), name="user-stream")
        self._io.spawn(self._housekeeping(), name="housekeeping")

    async def _shutdown(self, *, disarm: bool) -> None:
        try:
            if disarm:
                await self.gateway.dead_man.disarm()
            elif self.gateway.dead_man.armed:
                log.warning("event=dead_man_switch_left_armed reason=orders_may_remain")
        finally:
            # Nothing may use the session once it is closed: a settle that a lost disarm
            # answer had just asked for once failed on it (event=venue_task_failed).
            # Cancelled, not waited for: IoLoop.stop waits, and a WebSocket's slow closing
            # handshake must not keep the session from closing.
            self._io.cancel_tasks()
            await self._rest.close()

    def _execute(self, command: VenueCommand) -> None:
        if self._probe is not None and isinstance(
            command, PlaceOrders | ModifyOrders | CancelOrders
        ):
            self._probe.stamp(SendStage.TAKEN, command.ts_local)
        if isinstance(command, PlaceOrders) and len(self._coins) > 1:
            if self._batches.add(command):
                self._io.call_soon(self._place_batches, name="PlaceOrders")  # after the queue
            return
        if isinstance(command, RepairFills):
            self.user_stream.request_repair(command)  # retried there until it succeeds
            return
        self._io.spawn(self._guarded(command), name=type(command).__name__)

    def _place_batches(self) -> None:
        for command in self._batches.take():
            self._io.spawn(self._guarded(command), name="PlaceOrders")

    async def _guarded(self, command: VenueCommand) -> None:
        try:
            await self.gateway.execute(command)
        except (RequestLostError, RateLimitedError, FeedParseError) as error:
            # Queries inside a command (snapshots, cancel-all's listing) failed: the
            # command had no effect we know of, and the order_manager asks again.
            log.warning("event=command_failed command=%s error=%r", type(command).__name__, error)
        # An answer may have named the oid of fills held (an order that filled on arrival
        # and whose "filled" came first emits no acceptance to release them).
        self._release_fills()

    def _settle(self) -> None:
        self._io.spawn(self._guarded_report(), name="settle")

    async def _guarded_report(self) -> None:
        # Every coin at once, so their questions join: one listing and one position query
        # per perp dex. Asked one after another, each coin paid for its own listing (66
        # weight for three coins on two perp dexes, not 44) after every lost answer.
        outcomes = await asyncio.gather(
            *(self.gateway.report_account(coin) for coin in self._coins),
            return_exceptions=True,
        )
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        for failure in failures:
            if not isinstance(failure, RequestLostError | RateLimitedError | FeedParseError):
                raise failure
        if failures:
            log.warning("event=settle_failed error=%r", failures[0])

    def _emit(self, event: VenueEvent) -> None:
        if self._sink is None:
            return
        if isinstance(event, BookSnapshotReceived | PositionReported):
            # The exchange's own time, for the times it judges by it (expiresAfter, the
            # dead-man switch): what it stamped, and when we heard it.
            self.gateway.exchange_clock.observe(event)
        took_leg = False
        if isinstance(event, OpenOrdersReported):
            # One place for every report (snapshots, repairs, audits): what it cannot show.
            # The gateway's own reports counted from when they were asked: never fewer.
            unsettled = self.gateway.unsettled.orders_at(event.coin, event.ts_local)
            event = replace(event, unsettled_orders=max(unsettled, event.unsettled_orders))
            # A leg only the listing shows (a modify's answer and reports lost) is the
            # order's from now on: its fills carry its cloid, its end is the order's.
            took_leg = self._legs.listed(event)
        if isinstance(event, StrangerOrderReported):
            self._pending_fills.stranger(event.venue_order_id)
        self._sink(event)
        # After the event: the order manager takes a listed leg from the listing itself.
        if took_leg or isinstance(event, OrderAccepted | OrderModified | StrangerOrderReported):
            self._release_fills()

    def _rate_limit_lifted(self) -> None:
        """An accepted action ended the rate-limit backoff: new risk may go out at once."""
        self._emit(RateLimitLifted(ts_local=self._clock.now_ns()))

    def _emit_fill(self, fill: OrderFilled) -> None:
        cloid = fill.cloid or self._legs.cloid_of(fill.venue_order_id)
        stranger = self._pending_fills.is_strangers(fill.venue_order_id)
        if cloid is None and not fill.late and not stranger:
            self._pending_fills.hold(fill)  # its order's answer may still be on the way
        elif self._sink is not None:
            # A late fill (a repair, a connection's opening snapshot) is past any answer
            # worth waiting for, and holding it would let the repair's end overtake it:
            # the fill tracker would then settle the position without it.
            self._sink(fill if cloid is None else replace(fill, cloid=cloid))

    def _release_fills(self) -> None:
        for fill in self._pending_fills.release(self._legs, self._clock.now_ns()):
            if self._sink is not None:
                self._sink(fill)

    async def _housekeeping(self) -> None:
        elapsed = 0.0
        while True:
            await asyncio.sleep(_HOUSEKEEPING_S)
            self._release_fills()
            elapsed += _HOUSEKEEPING_S
            if elapsed >= _BUDGET_REPORT_S:
                elapsed = 0.0
                await self._report_budget()

    async def _report_budget(self) -> None:
        try:
            limit = await self._queries.rate_limit()
        except (RequestLostError, RateLimitedError, FeedParseError) as error:
            log.warning("event=user_rate_limit_failed error=%r", error)
        else:
            self.budget.record_user_rate_limit(limit)
            if self._sink is not None:
                self._sink(
                    RequestBudgetReported(
                        requests_left=limit.requests_left,
                        requests_cap=limit.requests_cap,
                        ts_local=self._clock.now_ns(),
                    )
                )
        budget = self.budget
        log.info(
            "event=rate_budget actions_sent=%d weight_spent=%d weight_left=%.0f "
            "address_requests_left=%s rate_limited=%d",
            budget.actions_sent,
            budget.weight_spent,
            budget.weight_left,
            budget.address_requests_left,
            budget.rate_limited_total,
        )
