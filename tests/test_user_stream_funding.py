"""Funding on the account stream: a malformed ``userFundings`` push is counted and
dropped, a good one is forwarded, and a repair asks the venue for the payments since.

The stream comes from a WebSocket server on loopback; the repair goes to the local
venue, which paid the account funding on a real position.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import eth_account
import requests
from eth_account.signers.local import LocalAccount
from websockets.asyncio.server import ServerConnection

from makerd.protocol.account import FundingPaid, RepairFills, funding_key
from makerd.protocol.market import FeedMessageDropped
from makerd.venues.hl_local.background import VenueThread
from tests.test_user_stream_repairs import (
    TIMEOUT_S,
    _buy_at_the_ask,
    loopback_session,
    venue,
)

__all__ = ["venue"]  # the local venue fixture, shared with the repair tests


def _push(user: str, usdc: str, time_ms: int) -> str:
    payment = {"time": time_ms, "coin": "BTC", "usdc": usdc, "szi": "0.001",
               "fundingRate": "0.0001", "nSamples": None}  # fmt: skip
    return json.dumps({"channel": "userFundings", "data": {"user": user, "fundings": [payment]}})


async def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def test_funding_pushes_are_checked_and_repairs_fetch_the_payments_since(
    venue: VenueThread,
) -> None:
    wallet: LocalAccount = eth_account.Account.create()
    user = wallet.address.lower()
    _buy_at_the_ask(venue.url, wallet)
    paid = requests.post(f"{venue.url}/_debug/funding", json={"coin": "BTC", "rate": "0.0002"})
    paid_ms = paid.json()["time"]
    pushed_ms = paid_ms - 60_000  # another funding time than the venue's payment
    events: list[object] = []

    async def scenario() -> None:
        async def stream_server(ws: ServerConnection) -> None:
            for _ in range(3):
                await ws.recv()  # orderUpdates, userFills, userFundings
            await ws.send(_push(user, "lots", pushed_ms))  # unreadable: counted, dropped
            await ws.send(_push(user, "0.012", pushed_ms))
            await ws.wait_closed()

        session = loopback_session(venue, stream_server, user, emit=events.append)
        async with session as (stream, tasks):
            tasks.spawn(stream.run(), name="stream")
            await _until(lambda: any(isinstance(e, FundingPaid) for e in events))
            stream.request_repair(RepairFills(coin="BTC", since_ns=0, reason="test", ts_local=0))
            await _until(lambda: len([e for e in events if isinstance(e, FundingPaid)]) >= 2)

    asyncio.run(scenario())

    drops = [e for e in events if isinstance(e, FeedMessageDropped)]
    payments = {e.key: e.amount for e in events if isinstance(e, FundingPaid)}
    assert [(d.channel, d.reason) for d in drops] == [("userFundings", "bad_number")]
    assert str(payments[funding_key("BTC", pushed_ms)]) == "0.012", "the good push"
    assert payments[funding_key("BTC", paid_ms)] < 0, "the venue's payment, found by the repair"
