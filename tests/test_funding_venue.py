"""Funding payments at the venue boundary: the exchange's recorded shapes, malformed
entries refused with a named reason, and the local venue paying funding on demand to
the real SDK (``userFunding``) and the account stream (``userFundings``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import eth_account
import pytest
import requests
from eth_account.signers.local import LocalAccount
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from websockets.sync.client import connect

from makerd.protocol.account import funding_key
from makerd.protocol.market import DropReason
from makerd.venues.hl_local import LiquidityConfig, VenueConfig, VenueThread
from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.parse_funding import (
    parse_asset_funding,
    parse_user_funding,
    parse_user_fundings_message,
)
from tests.local_venue_kit import subscribe
from tests.test_hl_parse import TS_LOCAL, needs_cassettes, recorded

IOC: Any = {"limit": {"tif": "Ioc"}}
DELTA: dict[str, object] = {
    "type": "funding", "coin": "ETH", "usdc": "-3.625312", "szi": "49.1477",
    "fundingRate": "0.0000417", "nSamples": None,
}  # fmt: skip
ENTRY: dict[str, object] = {"delta": DELTA, "hash": "0x" + "ab" * 32, "time": 1_700_000_000_000}


@needs_cassettes
@pytest.mark.parametrize(
    ("cassette", "count"),
    [
        ("test_user_funding_history_with_end_time", 13),
        ("test_user_funding_history_without_end_time", 218),
    ],
)
def test_recorded_funding_history_parses_to_one_payment_per_coin_and_hour(
    cassette: str, count: int
) -> None:
    raw = recorded(cassette, "userFunding")

    payments = parse_user_funding(raw, ts_local=TS_LOCAL)

    assert len(payments) == count
    assert len({p.key for p in payments}) == count
    assert sum(p.amount for p in payments) == sum(Decimal(i["delta"]["usdc"]) for i in raw)
    first = payments[0]
    assert first.key == funding_key(raw[0]["delta"]["coin"], raw[0]["time"])
    assert first.position == Decimal(raw[0]["delta"]["szi"])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"usdc": None}, DropReason.MISSING_FIELD),
        ({"usdc": "1e3"}, DropReason.BAD_NUMBER),
        ({"szi": 12}, DropReason.BAD_NUMBER),
        ({"type": "deposit"}, DropReason.BAD_FIELD),
        ({"coin": None}, DropReason.MISSING_FIELD),
    ],
)
def test_a_malformed_funding_entry_is_refused_with_its_reason(
    change: dict[str, object], reason: DropReason
) -> None:
    entry = {**ENTRY, "delta": {**DELTA, **change}}

    with pytest.raises(FeedParseError) as refused:
        parse_user_funding([ENTRY, entry], ts_local=TS_LOCAL)

    assert refused.value.reason == reason


def test_a_funding_time_ahead_of_the_local_clock_is_refused() -> None:
    frame = {"user": "0xabc", "fundings": [{**DELTA, "time": TS_LOCAL // 10**6 + 3600_000}]}

    with pytest.raises(FeedParseError) as refused:
        parse_user_fundings_message(frame, ts_local=TS_LOCAL)

    assert refused.value.reason == DropReason.FUTURE_TIME


CONTEXTS = [
    {"universe": [{"name": "BTC", "szDecimals": 5}, {"name": "ETH", "szDecimals": 4}]},
    [{"funding": "0.0000125", "oraclePx": "60000.5"}, {"funding": "-0.0003", "oraclePx": "3000"}],
]


def test_the_markets_current_rate_is_read_at_the_coins_index() -> None:
    assert parse_asset_funding(CONTEXTS, "ETH") == (Decimal("-0.0003"), Decimal(3000))


@pytest.mark.parametrize(
    ("payload", "coin"),
    [
        (CONTEXTS, "DOGE"),
        ([CONTEXTS[0], [{"funding": "0.0001"}]], "BTC"),
        ([CONTEXTS[0], [{"funding": "high", "oraclePx": "1"}]], "BTC"),
        (CONTEXTS[0], "BTC"),
    ],
)
def test_an_unusable_asset_context_is_refused(payload: object, coin: str) -> None:
    with pytest.raises(FeedParseError):
        parse_asset_funding(payload, coin)


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    still = LiquidityConfig(step_volatility_bps=0.0, taker_probability=0.0)
    running = VenueThread(
        VenueConfig(port=0, auto_provision=True, seed=3, tick_interval_s=0.1, liquidity=still)
    )
    running.start()
    yield running
    running.stop()


def pay(venue: VenueThread, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{venue.url}/_debug/funding", json=body, timeout=5)


def test_the_local_venue_pays_funding_to_the_sdk_and_the_account_stream(
    venue: VenueThread,
) -> None:
    wallet: LocalAccount = eth_account.Account.create()
    info = Info(venue.url, skip_ws=True)
    ask = Decimal(info.l2_snapshot("BTC")["levels"][1][0]["px"])
    Exchange(wallet, venue.url).order("BTC", True, 0.01, float(int(ask * Decimal("1.003"))), IOC)
    user = wallet.address.lower()
    with connect(venue.url.replace("http", "ws", 1) + "/ws") as stream:
        subscribe(stream, {"type": "userFundings", "user": user})
        frames = [json.loads(stream.recv(timeout=3)) for _ in range(2)]  # ack, snapshot
        mid = Decimal(info.all_mids()["BTC"])

        reply = pay(venue, {"coin": "BTC", "rate": "0.0001"}).json()
        pushed = json.loads(stream.recv(timeout=3))

    history = info.user_funding_history(user, 0)
    expected = (-Decimal("0.01") * mid * Decimal("0.0001")).quantize(Decimal("0.000001"))
    assert reply["status"] == "ok"
    assert [Decimal(p["usdc"]) for p in reply["paid"] if p["user"] == user] == [expected]
    assert frames[1]["data"] == {"isSnapshot": True, "user": user, "fundings": []}
    from_rest = parse_user_funding(history, ts_local=reply["time"] * 10**6)
    from_push = parse_user_fundings_message(pushed["data"], ts_local=reply["time"] * 10**6)
    assert [p.amount for p in from_rest] == [expected], "a long pays a positive rate"
    assert from_push == from_rest, "the push and the query are the same payment"


def test_a_bad_funding_request_names_the_fields() -> None:
    reply_venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=4))
    reply_venue.start()
    try:
        reply = pay(reply_venue, {"coin": "XYZ", "rate": "lots", "when": 1})
    finally:
        reply_venue.stop()

    problems = reply.json()["problems"]
    assert reply.status_code == 400
    assert any(p.startswith("coin:") for p in problems)
    assert any(p.startswith("rate:") for p in problems)
    assert "when: unknown key" in problems
