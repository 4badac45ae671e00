"""The admin paths, for tests; they answer loopback clients only (HTTP 403 otherwise).

``POST /_debug/faults``
    arm faults (every key in :mod:`venues.hl_local.faults`).
``GET /_debug/malformed``
    what the ``malformed_frames`` fault wrote so far (every arming since start, by stream
    and kind) and how many frames are still to go on connections still open::

        {"sent": {"<stream>:<kind>": n, …}, "pending": n}

``GET /_debug/stamps``
    the reaction stamps on the venue's monotonic clock: when the first book showing each
    ``jump_pct`` jump was queued, when each signed action arrived (see
    :mod:`venues.hl_local.stamps`).
``POST /_debug/accounts``
    ``{"address": "0x…", "usdc": "1000"}`` creates an account or sets its USDC balance
    (tests move an account's margin use with it: ``clearinghouseState`` reports the
    margin its positions use against balance plus unrealized PnL).
``GET /_debug/account?user=0x…``
    what the account did, for assertions::

        {"open_orders": <resting now>,
         "peak_open_orders": <most resting at once since start or the last reset>,
         "open_orders_by_coin": {"<COIN>": n, …every listed coin},
         "peak_open_orders_by_coin": {"<COIN>": n, …every listed coin},
         "fills": [{"coin", "tid", "oid", "px", "sz", "side", "time", "closedPnl", "fee"}…],
         "position": {"<COIN>": "<signed size>", …every listed coin},
         "actions": [{"time_ms", "type", "orders", "accepted",
                      "priced": [{"coin", "is_buy", "px", "best_bid", "best_ask"}…]}…]}

    ``fills`` holds every fill since start, ``actions`` the last 20000 signed actions
    (see :mod:`venues.hl_local.records`), both oldest first. An unknown account gets 404.
``POST /_debug/account``
    ``{"user": "0x…", "reset_peak": true}`` restarts the peaks from the current counts;
    answers ``{"status": "ok", "open_orders": n, "peak_open_orders": n}``.
``POST /_debug/funding``
    ``{"coin": "BTC", "rate": "0.0001"}`` pays funding now on every open position in the
    coin (see :mod:`venues.hl_local.funding`), pushes it on ``userFundings`` and answers
    ``{"status": "ok", "time": <ms>, "paid": [{"user", "usdc", "szi"}…]}``.

A bad body or query gets HTTP 400 ``{"status": "err", "problems": [...]}``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation

from aiohttp import web

from makerd.venues.hl_local.accounts import Account, AccountRegistry
from makerd.venues.hl_local.body_fields import is_address
from makerd.venues.hl_local.engine import MatchingEngine
from makerd.venues.hl_local.fault_state import Faults
from makerd.venues.hl_local.faults import parse_fault_request
from makerd.venues.hl_local.feeds import FeedPublisher
from makerd.venues.hl_local.funding import parse_funding_request, pay_funding
from makerd.venues.hl_local.hostile_injector import HostileInjector
from makerd.venues.hl_local.httpio import is_loopback, read_json
from makerd.venues.hl_local.liquidity import SyntheticLiquidity
from makerd.venues.hl_local.records import fill_record_json
from makerd.venues.hl_local.stamps import ReactionStamps
from makerd.venues.hl_local.universe import wire_decimal
from makerd.venues.hl_local.wire import JsonDict
from makerd.venues.hl_local.ws import WsHub

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACCOUNT_POST_KEYS = frozenset({"user", "reset_peak"})
USER_PROBLEM = "user: expected an address (0x and 40 hex digits)"


class AdminEndpoint:
    """Serves the ``/_debug/…`` paths against the venue's parts."""

    def __init__(
        self,
        *,
        engine: MatchingEngine,
        accounts: AccountRegistry,
        faults: Faults,
        liquidity: SyntheticLiquidity,
        feeds: FeedPublisher,
        hub: WsHub,
        hostile: HostileInjector,
        now_ms: Callable[[], int],
        stamps: ReactionStamps,
    ) -> None:
        self._engine = engine
        self._stamps = stamps
        self._accounts = accounts
        self._faults = faults
        self._liquidity = liquidity
        self._feeds = feeds
        self._hub = hub
        self._hostile = hostile
        self._now_ms = now_ms

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/_debug/faults", _loopback_only(self._on_faults))
        app.router.add_get("/_debug/malformed", _loopback_only(self._on_malformed))
        app.router.add_get("/_debug/stamps", _loopback_only(self._on_stamps))
        app.router.add_post("/_debug/accounts", _loopback_only(self._on_fund))
        app.router.add_get("/_debug/account", _loopback_only(self._on_account))
        app.router.add_post("/_debug/account", _loopback_only(self._on_account_reset))
        app.router.add_post("/_debug/funding", _loopback_only(self._on_funding))

    async def _on_faults(self, request: web.Request) -> web.StreamResponse:
        parsed = parse_fault_request(await read_json(request), self._engine.universe.coins)
        if isinstance(parsed, list):
            return _problems(parsed)
        log.info("fault injection armed: %s", parsed.armed())
        now = self._now_ms()
        self._faults.arm(parsed, now)
        if parsed.clear:
            self._hostile.clear()
            self._engine.cap_open_interest(None, until_ms=0)
            self._engine.halt(None, until_ms=0)
        reply: JsonDict = {"status": "ok", "armed": parsed.armed(), "dropped": 0}
        if parsed.drop is not None:
            reply["dropped"] = await self._hub.drop(parsed.drop)
        self._engine.now_ms = now
        if parsed.jump_pct is not None:
            self._liquidity.jump(parsed.jump_pct, parsed.coin)
            moved = [parsed.coin] if parsed.coin is not None else list(self._engine.universe.coins)
            self._stamps.jumped(moved, parsed.jump_pct)
        if parsed.open_interest_cap_s is not None:
            until = now + round(parsed.open_interest_cap_s * 1000)
            self._engine.cap_open_interest(parsed.coin, until)
        if parsed.halt_s is not None:
            self._engine.halt(parsed.coin, now + round(parsed.halt_s * 1000))
        if parsed.sweep is not None:
            sweep = parsed.sweep
            reply["swept"] = self._engine.sweep_user(
                sweep.user, is_buy=sweep.is_buy, coin=sweep.coin
            )
        if parsed.fire_scheduled_cancel:
            reply["fired"] = self._engine.fire_scheduled_cancels(parsed.user)
        self._feeds.publish_events()
        self._feeds.push_market()
        if parsed.malformed_frames is not None:
            reply["malformed_to_send"] = self._hostile.arm(parsed.malformed_frames)
        return web.json_response(reply)

    async def _on_funding(self, request: web.Request) -> web.StreamResponse:
        parsed = parse_funding_request(await read_json(request), self._engine.universe.coins)
        if isinstance(parsed, list):
            return _problems(parsed)
        coin, rate = parsed
        now = self._now_ms()
        paid = pay_funding(self._engine, coin=coin, rate=rate, time_ms=now)
        log.info("funding paid: coin=%s rate=%s accounts=%d", coin, rate, len(paid))
        self._feeds.publish_events()
        return web.json_response({"status": "ok", "time": now, "paid": paid})

    async def _on_malformed(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self._hostile.report())

    async def _on_stamps(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self._stamps.json())

    async def _on_fund(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        address = body.get("address") if isinstance(body, dict) else None
        usdc = (
            body.get("usdc", str(self._accounts.initial_usdc)) if isinstance(body, dict) else None
        )
        try:
            amount = Decimal(str(usdc))
        except InvalidOperation:
            amount = Decimal(-1)
        if not is_address(address) or not amount.is_finite() or amount < 0:
            return _problems(["expected {'address': '0x…40 hex', 'usdc': '<amount>'}"])
        account = self._accounts.fund(str(address), amount)
        return web.json_response({"status": "ok", "address": account.address})

    async def _on_account(self, request: web.Request) -> web.StreamResponse:
        user = request.query.get("user")
        if not is_address(user):
            return _problems([USER_PROBLEM])
        account = self._accounts.get(str(user))
        if account is None:
            return _unknown(str(user))
        return web.json_response(self._account_json(account))

    async def _on_account_reset(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        if not isinstance(body, dict):
            return _problems(["body: expected a JSON object"])
        problems = [f"{key}: unknown key" for key in body if key not in ACCOUNT_POST_KEYS]
        if not is_address(body.get("user")):
            problems.append(USER_PROBLEM)
        if type(body.get("reset_peak", False)) is not bool:
            problems.append("reset_peak: expected true or false")
        if problems:
            return _problems(problems)
        account = self._accounts.get(body["user"])
        if account is None:
            return _unknown(body["user"])
        if body.get("reset_peak", False):
            self._engine.reset_peak_open_orders(account.address)
        return web.json_response(
            {
                "status": "ok",
                "open_orders": len(self._engine.open_orders(account.address)),
                "peak_open_orders": self._engine.peak_open_orders(account.address),
            }
        )

    def _account_json(self, account: Account) -> JsonDict:
        positions = account.positions
        open_orders = self._engine.open_orders(account.address)
        coins = self._engine.universe.coins
        return {
            "open_orders": len(open_orders),
            "peak_open_orders": self._engine.peak_open_orders(account.address),
            "open_orders_by_coin": {
                coin: sum(1 for order in open_orders if order.coin == coin) for coin in coins
            },
            "peak_open_orders_by_coin": self._engine.peak_open_orders_by_coin(account.address),
            "fills": [fill_record_json(fill) for fill in account.fill_history],
            "position": {
                coin: wire_decimal(positions[coin].size if coin in positions else Decimal(0))
                for coin in coins
            },
            "actions": [record.json() for record in account.actions.recent()],
        }


def _loopback_only(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if not is_loopback(request):
            return web.Response(status=403, text="admin paths answer loopback clients only")
        return await handler(request)

    return guarded


def _problems(problems: list[str]) -> web.Response:
    return web.json_response({"status": "err", "problems": problems}, status=400)


def _unknown(user: str) -> web.Response:
    problem = f"user: no account {user.lower()} (it has sent no signed action and was not funded)"
    return web.json_response({"status": "err", "problems": [problem]}, status=404)
