"""The local Hyperliquid-compatible venue: one aiohttp app on one loopback port.

Routes: ``POST /info``, ``POST /exchange``, ``GET /ws`` (WebSocket), and the admin paths
``POST /_debug/faults`` (see :mod:`venues.hl_local.faults`) and ``POST /_debug/accounts``
(``{"address": "0x…", "usdc": "1000"}`` funds an account), which answer loopback
clients only. Every piece of state lives on the event loop's thread; a tick task moves
the synthetic market, fires scheduled cancels and pushes feeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from protocol.clock import Clock, WallClock
from venues.hl_local.accounts import AccountRegistry
from venues.hl_local.actions import ExchangeEndpoint
from venues.hl_local.engine import MatchingEngine
from venues.hl_local.faults import Faults, parse_fault_request
from venues.hl_local.feeds import FeedPublisher
from venues.hl_local.info import InfoEndpoint
from venues.hl_local.liquidity import LiquidityConfig, SyntheticLiquidity
from venues.hl_local.universe import Universe
from venues.hl_local.wire import HttpReply, deserialize_error
from venues.hl_local.ws import WsHub

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueConfig:
    """Everything the local venue can be told at start-up."""

    host: str = "127.0.0.1"
    port: int = 8787
    seed: int | None = None
    tick_interval_s: float = 0.2
    initial_usdc: Decimal = Decimal(1_000_000)
    auto_provision: bool = True
    mainnet_signing: bool = False
    ws_idle_timeout_s: float = 60.0
    funded_accounts: tuple[str, ...] = ()
    liquidity: LiquidityConfig = field(default_factory=LiquidityConfig)


class LocalVenue:
    """Builds the venue's parts and serves them."""

    def __init__(self, config: VenueConfig, clock: Clock | None = None) -> None:
        self.config = config
        self._clock = clock or WallClock()
        self.accounts = AccountRegistry(
            initial_usdc=config.initial_usdc, auto_provision=config.auto_provision
        )
        for address in config.funded_accounts:
            self.accounts.fund(address)
        self.engine = MatchingEngine(universe=Universe(), accounts=self.accounts)
        self.faults = Faults()
        self.liquidity = SyntheticLiquidity(self.engine, config.liquidity, seed=config.seed)
        self.info = InfoEndpoint(self.engine, self.now_ms)
        self.exchange = ExchangeEndpoint(
            engine=self.engine,
            accounts=self.accounts,
            faults=self.faults,
            mainnet_signing=config.mainnet_signing,
            now_ms=self.now_ms,
        )
        self.feeds = FeedPublisher(
            engine=self.engine,
            info=self.info,
            exchange=self.exchange,
            faults=self.faults,
            now_ms=self.now_ms,
        )
        self.hub = WsHub(feeds=self.feeds, idle_timeout_s=config.ws_idle_timeout_s)
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.url = ""

    def now_ms(self) -> int:
        return self._clock.now_ns() // 1_000_000

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/info", self._on_info)
        app.router.add_post("/exchange", self._on_exchange)
        app.router.add_get("/ws", self.hub.handle)
        app.router.add_post("/_debug/faults", self._on_faults)
        app.router.add_post("/_debug/accounts", self._on_fund)
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
        body = await _read_json(request)
        reply = body if isinstance(body, HttpReply) else self.info.handle(body)
        return _respond(reply)

    async def _on_exchange(self, request: web.Request) -> web.StreamResponse:
        body = await _read_json(request)
        reply = body if isinstance(body, HttpReply) else self.exchange.handle(body)
        self.feeds.publish_events()
        return _respond(reply)

    async def _on_faults(self, request: web.Request) -> web.StreamResponse:
        if not _is_loopback(request):
            return web.Response(status=403, text="admin paths answer loopback clients only")
        body = await _read_json(request)
        parsed = parse_fault_request(body, self.engine.universe.coins)
        if isinstance(parsed, list):
            return web.json_response({"status": "err", "problems": parsed}, status=400)
        log.info("fault injection armed: %s", parsed)
        self.faults.arm(parsed, self.now_ms())
        dropped = await self.hub.drop_all() if parsed.drop_connections else 0
        if parsed.jump_pct is not None:
            self.engine.now_ms = self.now_ms()
            self.liquidity.jump(parsed.jump_pct, parsed.coin)
            self.feeds.publish_events()
            self.feeds.push_market()
        return web.json_response({"status": "ok", "armed": _armed(parsed), "dropped": dropped})

    async def _on_fund(self, request: web.Request) -> web.StreamResponse:
        if not _is_loopback(request):
            return web.Response(status=403, text="admin paths answer loopback clients only")
        body = await _read_json(request)
        address = body.get("address") if isinstance(body, dict) else None
        usdc = body.get("usdc", str(self.config.initial_usdc)) if isinstance(body, dict) else None
        try:
            amount = Decimal(str(usdc))
        except InvalidOperation:
            amount = Decimal(-1)
        if not isinstance(address, str) or len(address) != 42 or amount < 0:
            problem = "expected {'address': '0x…40 hex', 'usdc': '<amount>'}"
            return web.json_response({"status": "err", "problems": [problem]}, status=400)
        account = self.accounts.fund(address, amount)
        return web.json_response({"status": "ok", "address": account.address})


def _report_ticker_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the market tick stopped: %r", task.exception())


def _armed(parsed: Any) -> dict[str, Any]:
    fields = ("drop_connections", "freeze_feed_s", "reject_next", "rate_limit_next", "jump_pct")
    return {name: str(getattr(parsed, name)) for name in fields if getattr(parsed, name)}


async def _read_json(request: web.Request) -> Any:
    text = await request.text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        return deserialize_error(f"{error.msg} at line {error.lineno} column {error.colno}")


def _respond(reply: HttpReply) -> web.StreamResponse:
    if isinstance(reply.body, str):
        return web.Response(status=reply.status, text=reply.body)
    return web.json_response(reply.body, status=reply.status)


def _is_loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False
