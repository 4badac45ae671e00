"""Unreadable fill pushes are answered by spaced repairs: no fill lost, no budget burnt.

The user stream comes from a WebSocket server on loopback that sends a flood of fill
pushes makerd must refuse; the repairs go to the local venue, where the account really
traded. Each refused push is owed a repair (it may have carried a real fill), but a flood
of them must not spend the request budget that the order manager and a stop need.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from decimal import Decimal
from typing import Any

import eth_account
import pytest
from eth_account.signers.local import LocalAccount
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from websockets.asyncio.server import ServerConnection, serve

from makerd.protocol.account import FillsRepaired, OrderFilled, RepairFills
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.account_queries import AccountQueries
from makerd.venues.hyperliquid.rate_budget import RateBudget
from makerd.venues.hyperliquid.rest import RestClient
from makerd.venues.hyperliquid.state import OrderLegs
from makerd.venues.hyperliquid.user_stream import UserStream
from makerd.venues.hyperliquid.ws_connection import ReconnectPolicy

BAD_PUSHES = 40
FAST = ReconnectPolicy(initial_backoff_s=0.01, max_backoff_s=0.05, short_session_s=0.0)
TIMEOUT_S = 30.0
IOC: Any = {"limit": {"tif": "Ioc"}}


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    running = VenueThread(VenueConfig(port=0, auto_provision=True, seed=3, tick_interval_s=0.1))
    running.start()
    yield running
    running.stop()


class _Tasks:
    def __init__(self) -> None:
        self.running: list[asyncio.Task[object]] = []

    def spawn(self, coroutine: Coroutine[Any, Any, object], *, name: str) -> None:
        self.running.append(asyncio.get_running_loop().create_task(coroutine, name=name))


def loopback_stream(
    port: int,
    rest: RestClient,
    user: str,
    tasks: _Tasks,
    *,
    emit: Callable[[object], None] = lambda event: None,
    emit_fill: Callable[[OrderFilled], None] = lambda fill: None,
) -> UserStream:
    """The account stream of ``user`` from a test server on ``port``; queries to ``rest``."""
    return UserStream(
        ws_url=f"ws://127.0.0.1:{port}",
        coin="BTC",
        queries=AccountQueries(rest, user=user, now_ns=time.time_ns),
        legs=OrderLegs(),
        emit=emit,
        emit_fill=emit_fill,
        tasks=tasks,
        policy=FAST,
        now_ns=time.time_ns,
    )


@contextlib.asynccontextmanager
async def loopback_session(
    venue: VenueThread,
    server: Callable[[ServerConnection], Awaitable[None]],
    user: str,
    **sinks: Any,
) -> AsyncIterator[tuple[UserStream, _Tasks]]:
    """``user``'s stream served by ``server`` on loopback, its queries to ``venue``; not yet
    running (spawn ``stream.run()`` on the tasks). Every task is cancelled on the way out."""
    rest = RestClient(venue.url, RateBudget(weight_per_minute=600), timeout_s=5.0)
    await rest.open()
    tasks = _Tasks()
    try:
        async with serve(server, "127.0.0.1", 0) as served:
            port = next(iter(served.sockets)).getsockname()[1]
            yield loopback_stream(port, rest, user, tasks, **sinks), tasks
            for task in tasks.running:
                task.cancel()
            await asyncio.gather(*tasks.running, return_exceptions=True)
    finally:
        await rest.close()


def _buy_at_the_ask(url: str, wallet: LocalAccount) -> int:
    """A crossing IOC buy at the venue: the account's one real fill; returns its trade id."""
    info = Info(url, skip_ws=True)
    ask = Decimal(info.l2_snapshot("BTC")["levels"][1][0]["px"])
    limit = float(round(ask * Decimal("1.01"), -2))  # through the touch, five significant figures
    response = Exchange(wallet, url).order("BTC", True, 0.001, limit, IOC)
    assert "filled" in response["response"]["data"]["statuses"][0], response
    [fill] = info.user_fills(wallet.address)
    return int(fill["tid"])


def _unreadable_fill_push(user: str) -> str:
    fill = {
        "coin": "BTC",
        "px": "0",  # a price of zero: refused at the boundary, never booked
        "sz": "0.001",
        "side": "B",
        "time": time.time_ns() // 1_000_000,
        "startPosition": "0",
        "dir": "Open Long",
        "closedPnl": "0",
        "hash": "0x" + "ab" * 32,
        "oid": 1,
        "crossed": True,
        "fee": "0",
        "tid": 1,
        "feeToken": "USDC",
    }
    return json.dumps({"channel": "userFills", "data": {"user": user, "fills": [fill]}})


async def _wait_for_fill(fills: list[OrderFilled], tid: int) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not any(fill.trade_id == f"BTC:{tid}" for fill in fills):
        assert time.monotonic() < deadline, f"trade {tid} was never booked: {fills}"
        await asyncio.sleep(0.02)


def test_a_flood_of_unreadable_fill_pushes_costs_few_repairs_and_loses_no_fill(
    venue: VenueThread,
) -> None:
    wallet: LocalAccount = eth_account.Account.create()
    user = wallet.address.lower()
    fills: list[OrderFilled] = []
    repairs_after_flood: list[int] = []

    async def scenario() -> None:
        flood_sent = asyncio.Event()

        async def stream_server(ws: ServerConnection) -> None:
            await ws.recv()  # orderUpdates subscription
            await ws.recv()  # userFills subscription
            for _ in range(BAD_PUSHES):
                await ws.send(_unreadable_fill_push(user))
                await asyncio.sleep(0.01)
            flood_sent.set()
            await ws.wait_closed()  # stay connected until the client goes

        session = loopback_session(venue, stream_server, user, emit_fill=fills.append)
        async with session as (stream, tasks):
            tid = await asyncio.to_thread(_buy_at_the_ask, venue.url, wallet)
            tasks.spawn(stream.run(), name="stream")
            await asyncio.wait_for(flood_sent.wait(), TIMEOUT_S)
            await _wait_for_fill(fills, tid)
            await asyncio.sleep(1.0)  # time enough for a repair per push, were there one
            repairs_after_flood.append(stream.repairs)

    asyncio.run(scenario())

    # One repair opens the connection, one answers the first bad push; the rest are owed
    # one more repair after the spacing, not one each.
    assert repairs_after_flood[0] <= 3, f"{repairs_after_flood[0]} repairs for {BAD_PUSHES} pushes"
    assert [fill.late for fill in fills] == [True], "the real fill, booked once, as late"


def test_fill_repairs_asked_together_for_three_coins_cost_one_repair(venue: VenueThread) -> None:
    wallet: LocalAccount = eth_account.Account.create()
    user = wallet.address.lower()
    tid = _buy_at_the_ask(venue.url, wallet)
    fills: list[OrderFilled] = []
    repaired: list[FillsRepaired] = []
    budget = RateBudget(weight_per_minute=600)

    async def scenario() -> int:
        rest = RestClient(venue.url, budget, timeout_s=5.0)
        await rest.open()
        tasks = _Tasks()
        stream = UserStream(
            ws_url="ws://127.0.0.1:9",  # never run: only its repairs are exercised
            coin="BTC",
            others=("ETH", "xyz:TSLA"),
            queries=AccountQueries(rest, user=user, now_ns=time.time_ns),
            legs=OrderLegs(),
            emit=lambda event: repaired.append(event) if isinstance(event, FillsRepaired) else None,
            emit_fill=fills.append,
            tasks=tasks,
            policy=FAST,
            now_ns=time.time_ns,
        )
        now = time.time_ns()
        for coin, since in (("BTC", 0), ("ETH", now), ("xyz:TSLA", now)):
            stream.request_repair(
                RepairFills(coin=coin, since_ns=since, reason="start", ts_local=now)
            )
        while tasks.running and not all(task.done() for task in tasks.running):
            await asyncio.sleep(0.01)
        await rest.close()
        return stream.repairs

    repairs = asyncio.run(scenario())

    assert repairs == 1
    assert sorted(r.coin for r in repaired) == ["BTC", "ETH", "xyz:TSLA"]
    assert [fill.trade_id for fill in fills] == [f"BTC:{tid}"], "the fill, once, for its coin"
    # Two perp dexes: a position and an open-orders query each (2 + 20), one fills and one
    # funding query for the account (20 each). Coin by coin it was 3 x 62 = 186.
    assert budget.weight_spent == 2 * 22 + 2 * 20


def _readable_fill_push(user: str, *, tid: int, time_ms: int) -> str:
    fill = json.loads(_unreadable_fill_push(user))["data"]["fills"][0]
    fill.update(px="100000", tid=tid, time=time_ms, hash="0x" + "cd" * 32)
    return json.dumps({"channel": "userFills", "data": {"user": user, "fills": [fill]}})


def test_a_newer_fill_pushed_after_an_unreadable_push_does_not_move_its_repair_past_it(
    venue: VenueThread,
) -> None:
    wallet: LocalAccount = eth_account.Account.create()
    user = wallet.address.lower()
    fills: list[OrderFilled] = []
    lost: list[int] = []

    async def scenario() -> None:
        first_repair_asked, lost_fill_traded = asyncio.Event(), asyncio.Event()

        async def stream_server(ws: ServerConnection) -> None:
            await ws.recv()  # orderUpdates subscription
            await ws.recv()  # userFills subscription
            await ws.send(_unreadable_fill_push(user))  # its repair runs now, then rests
            first_repair_asked.set()
            await lost_fill_traded.wait()
            await ws.send(_unreadable_fill_push(user))  # what the real fill's push became
            # A good push of a newer fill, before the owed repair starts.
            newer_ms = time.time_ns() // 1_000_000 + 2_000
            await ws.send(_readable_fill_push(user, tid=10**9, time_ms=newer_ms))
            await ws.wait_closed()

        session = loopback_session(venue, stream_server, user, emit_fill=fills.append)
        async with session as (stream, tasks):
            tasks.spawn(stream.run(), name="stream")
            await asyncio.wait_for(first_repair_asked.wait(), TIMEOUT_S)
            await asyncio.sleep(0.5)  # the first repair has read the account: no fill yet
            lost.append(await asyncio.to_thread(_buy_at_the_ask, venue.url, wallet))
            lost_fill_traded.set()
            await _wait_for_fill(fills, lost[0])  # the owed repair, after its spacing

    asyncio.run(scenario())

    booked = {fill.trade_id: fill.late for fill in fills}
    assert booked == {f"BTC:{10**9}": False, f"BTC:{lost[0]}": True}, "each once; the lost one late"
