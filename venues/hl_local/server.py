"""The local Hyperliquid-compatible venue: one aiohttp app on one loopback port.

Routes: ``POST /info``, ``POST /exchange``, ``GET /ws`` (WebSocket), and the admin paths
under ``/_debug/`` (see :mod:`venues.hl_local.admin`: arming faults, funding accounts,
reading what an account did), which answer loopback clients only. Each ``/info`` and
``/exchange`` request first meets the armed transport faults (delay, reset, HTTP error,
IP rate limit). Every piece of state lives on the event loop's thread; a tick task moves
the synthetic market, fires scheduled cancels and pushes feeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from makerd.protocol.clock import Clock, WallClock
from makerd.venues.hl_local.accounts import AccountRegistry
from makerd.venues.hl_local.actions import ExchangeEndpoint
from makerd.venues.hl_local.admin import AdminEndpoint
from makerd.venues.hl_local.engine import MatchingEngine
from makerd.venues.hl_local.fault_state import Faults, PathName, RequestFate, answer_cut
from makerd.venues.hl_local.feeds import FeedPublisher
from makerd.venues.hl_local.hostile_injector import HostileInjector
from makerd.venues.hl_local.httpio import read_json, reset_connection, respond
from makerd.venues.hl_local.info import InfoEndpoint
from makerd.venues.hl_local.liquidity import LiquidityConfig, SyntheticLiquidity
from makerd.venues.hl_local.stamps import ReactionStamps, request_type
from makerd.venues.hl_local.universe import Universe
from makerd.venues.hl_local.wire import HttpReply, deserialize_error
from makerd.venues.hl_local.ws import WsHub
from makerd.venues.hl_local.ws_posts import PostDesk

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueConfig:
    """Everything the local venue can be told at start-up."""

    host: str = "127.0.0.1"
    port: int = 8787
    seed: int | None = None
    tick_interval_s: float = 0.2
    initial_usdc: Decimal = Decimal(1_000_000)
    auto_provision: bool = False
    """Fund any signer on its first action (tests with throwaway keys); off, only accounts
    funded at start or through ``POST /_debug/accounts`` may trade."""
    mainnet_signing: bool = False
    ws_idle_timeout_s: float = 60.0
    funded_accounts: tuple[str, ...] = ()
    liquidity: LiquidityConfig = field(default_factory=LiquidityConfig)
    clock_offset_s: float = 0.0
    """How far the venue's clock runs ahead of the host's (negative: behind). Operators'
    hosts disagree with the exchange by seconds at times; this lets a test put makerd on
    such a host: every time the venue stamps or judges (frames, fills, ``expiresAfter``,
    ``scheduleCancel``, nonces) is the host's time plus this."""


class LocalVenue:
    """Builds the venue's parts and serves them."""

    def __init__(self, config: VenueConfig, clock: Clock | None = None) -> None:
        self.config = config
        self._clock = clock or WallClock()
        self._offset_ms = round(config.clock_offset_s * 1000)
        self.accounts = AccountRegistry(
            initial_usdc=config.initial_usdc, auto_provision=config.auto_provision
        )
        for address in config.funded_accounts:
            self.accounts.fund(address)
        self.engine = MatchingEngine(universe=Universe(), accounts=self.accounts)
        self.faults = Faults()
        self.stamps = ReactionStamps()
        self.liquidity = SyntheticLiquidity(self.engine, config.liquidity, seed=config.seed)
        self.info = InfoEndpoint(self.engine, self.now_ms)
        self.exchange = ExchangeEndpoint(
            engine=self.engine,
            accounts=self.accounts,
            faults=self.faults,
            mainnet_signing=config.mainnet_signing,
            now_ms=self.now_ms,
            stamps=self.stamps,
        )
        self.feeds = FeedPublisher(
            engine=self.engine,
            info=self.info,
            exchange=self.exchange,
            faults=self.faults,
            now_ms=self.now_ms,
            stamps=self.stamps,
        )
        self.hub = WsHub(
            feeds=self.feeds,
            idle_timeout_s=config.ws_idle_timeout_s,
            posts=PostDesk(
                feeds=self.feeds, faults=self.faults, now_ms=self.now_ms, stamps=self.stamps
            ),
            monotonic_ns=self.stamps.monotonic_ns,
        )
        self.hostile = HostileInjector(
            sessions=self.hub.sessions,
            coins=self.engine.universe.coins,
            book=self.info.l2_book,
            now_ms=self.now_ms,
        )
        self.admin = AdminEndpoint(
            engine=self.engine,
            accounts=self.accounts,
            faults=self.faults,
            liquidity=self.liquidity,
            feeds=self.feeds,
            hub=self.hub,
            hostile=self.hostile,
            now_ms=self.now_ms,
            stamps=self.stamps,
        )
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.url = ""

    def now_ms(self) -> int:
        return self._clock.now_ns() // 1_000_000 + self._offset_ms

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[_refuse_what_breaks_a_handler])
        app.router.add_post("/info", self._on_info)
        app.router.add_post("/exchange", self._on_exchange)
        app.router.add_get("/ws", self.hub.handle)
        self.admin.add_routes(app)
        return app

    async def start(self) -> str:
        """Bind, seed the book and start ticking; return the base URL (``http://host:port``)."""
        self.engine.now_ms = self.now_ms()
        for coin in self.engine.universe.coins:
            self.liquidity.refresh(coin)
        self.feeds.publish_events()
        self._runner = web.AppRunner(self.build_app(), handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._ticker = asyncio.create_task(self._tick_loop())
        self._ticker.add_done_callback(_report_ticker_end)
        return self.url

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        await self.hostile.stop()
        await self.hub.drop_all()
        if self._runner is not None:
            await self._runner.cleanup()

    def tick(self) -> None:
        """One market step: move prices, fire dead-man switches, push what changed."""
        self.engine.now_ms = self.now_ms()
        self.liquidity.step()
        self.engine.run_scheduled_cancels()
        self.feeds.publish_events()
        self.feeds.push_market()

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_interval_s)
            self.tick()

    async def _on_info(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "info", lambda body, _ms, _fate: self.info.handle(body))

    async def _on_exchange(self, request: web.Request) -> web.StreamResponse:
        arrived_ns = self.stamps.monotonic_ns()  # before the body is read: what a client waits
        return await self._serve(
            request,
            "exchange",
            lambda body, ms, fate: self._run_exchange(body, ms, arrived_ns, fate),
        )

    def _run_exchange(
        self, body: Any, arrived_ms: int, arrived_ns: int, fate: RequestFate
    ) -> HttpReply:
        reply = self.exchange.handle(body, arrived_ms=arrived_ms, arrived_ns=arrived_ns)
        self.feeds.publish_events(after_s=fate.stream_hold_s)
        return answer_cut(reply, fate.keep_statuses)

    async def _serve(
        self,
        request: web.Request,
        path: PathName,
        handler: Callable[[Any, int, RequestFate], HttpReply],
    ) -> web.StreamResponse:
        """Meet the armed transport faults, then answer with ``handler(body, arrived_ms,
        fate)`` (the faults that shape a real answer: ``fate``)."""
        arrived_ms = self.now_ms()
        arrived_ns = self.stamps.monotonic_ns()
        fate = self.faults.request_fate(path, arrived_ms)
        body = await read_json(request)
        kind = request_type(path, body)
        self.stamps.request_arrived(path=path, kind=kind, arrived_ns=arrived_ns, status=fate.status)
        if fate.delay_s > 0:
            await asyncio.sleep(fate.delay_s)
        if fate.reset:
            reset_connection(request)
            return web.Response(status=500)  # never written: the connection is gone
        if fate.reply is not None:
            return respond(fate.reply)
        if isinstance(body, HttpReply):
            return respond(body)
        reply = handler(body, arrived_ms, fate)  # it has taken effect
        if fate.hold_s > 0:
            await asyncio.sleep(fate.hold_s)
        return respond(reply)


def _report_ticker_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the market tick stopped: %r", task.exception())


@web.middleware
async def _refuse_what_breaks_a_handler(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A body of the right shape with values of the wrong kind (a list for a coin, a
    number too large to use) must get the exchange's refusal, never an HTTP 500 with a
    traceback: the venue's own tests attack it, so its handlers meet every such value."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except (TypeError, ValueError, KeyError, IndexError, ArithmeticError, AttributeError) as error:
        log.warning(
            "refused %s %s: %s: %s", request.method, request.path, type(error).__name__, error
        )
        refusal = deserialize_error(f"invalid value: {type(error).__name__}")
        return web.Response(status=refusal.status, text=str(refusal.body))
