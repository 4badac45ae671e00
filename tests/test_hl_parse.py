"""Parsers against the SDK's recorded mainnet responses, meta and error texts.

The cassettes are read in place from ../shared/fixtures beside the checkout (never copied
into the project).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from makerd.protocol.account import Liquidity
from makerd.protocol.orders import OrderStatus
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.errors import (
    FeedParseError,
)
from makerd.venues.hyperliquid.meta import (
    UnknownCoinError,
    instrument_for,
    parse_meta,
    parse_meta_and_asset_ctxs,
)
from makerd.venues.hyperliquid.parse import (
    parse_fills,
    parse_l2_book,
    parse_margin,
    parse_open_orders,
    parse_open_orders_by_coin,
    parse_order_updates,
    parse_position,
    parse_positions,
    parse_user_rate_limit,
)

CASSETTES = (
    Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "hyperliquid-sdk-cassettes"
)
needs_cassettes = pytest.mark.skipif(
    not CASSETTES.is_dir(),
    reason="the SDK cassettes beside the checkout (../shared/fixtures) are absent",
)
TS_LOCAL = 1_800_000_000_123_456_789  # after every recorded exchange time


def recorded(cassette: str, request_type: str) -> Any:
    """The decoded response body of the ``request_type`` call recorded in ``cassette``."""
    document = yaml.safe_load((CASSETTES / f"{cassette}.yaml").read_text())
    for interaction in document["interactions"]:
        if json.loads(interaction["request"]["body"])["type"] == request_type:
            return json.loads(interaction["response"]["body"]["string"])
    raise AssertionError(f"{cassette} has no {request_type} request")


@needs_cassettes
def test_recorded_meta_gives_btc_five_size_decimals_at_asset_zero() -> None:
    instruments = parse_meta(recorded("test_get_info", "meta"))

    assert len(instruments) == 28
    assert (instruments["BTC"].asset_id, instruments["BTC"].sz_decimals) == (0, 5)
    assert (instruments["ETH"].asset_id, instruments["ETH"].sz_decimals) == (1, 4)
    assert {instrument.max_leverage for instrument in instruments.values()} == {50}


@needs_cassettes
def test_recorded_dydx_book_has_twenty_legal_levels_a_side_and_is_not_crossed() -> None:
    dydx = parse_meta(recorded("test_get_l2_snapshot", "meta"))["DYDX"]

    book = parse_l2_book(recorded("test_get_l2_snapshot", "l2Book"), ts_local=TS_LOCAL)

    assert book.coin == "DYDX"
    assert (len(book.bids), len(book.asks)) == (20, 20)
    assert book.bids[0].price < book.asks[0].price
    assert [level.price for level in book.bids] == sorted(
        (lv.price for lv in book.bids), reverse=True
    )
    assert [level.price for level in book.asks] == sorted(level.price for level in book.asks)
    assert all(dydx.is_valid_price(level.price) for level in book.bids + book.asks)
    assert all(dydx.is_valid_size(level.size) for level in book.bids + book.asks)
    assert book.ts_exchange % 1_000_000 == 0
    assert book.ts_local == TS_LOCAL


@needs_cassettes
@pytest.mark.parametrize(
    ("cassette", "request_type"),
    [("test_get_user_fills", "userFills"), ("test_get_user_fills_by_time", "userFillsByTime")],
)
def test_recorded_fills_without_tid_still_get_500_distinct_trade_ids(
    cassette: str, request_type: str
) -> None:
    raw = recorded(cassette, request_type)

    fills = parse_fills(raw, ts_local=TS_LOCAL)

    assert len(fills) == 500
    assert len({fill.trade_id for fill in fills}) == 500
    assert sum(fill.liquidity is Liquidity.TAKER for fill in fills) == sum(
        item["crossed"] for item in raw
    )
    assert sum(fill.fee for fill in fills) == sum(Decimal(item["fee"]) for item in raw)
    assert fills[0].ts_exchange == raw[0]["time"] * 1_000_000


@needs_cassettes
def test_recorded_open_orders_are_all_reported_grouped_by_coin() -> None:
    raw = recorded("test_get_open_orders", "openOrders")

    by_coin = parse_open_orders_by_coin(raw, ts_local=TS_LOCAL)
    arb = parse_open_orders(raw, coin="ARB", ts_local=TS_LOCAL)

    assert sum(len(report.orders) for report in by_coin.values()) == 196
    assert all(order.coin == "ARB" for order in arb.orders)
    assert len(arb.orders) == sum(item["coin"] == "ARB" for item in raw)
    assert {order.side for order in arb.orders} == {Side.BUY, Side.SELL}


@needs_cassettes
def test_recorded_frontend_open_orders_include_trigger_orders() -> None:
    raw = recorded("test_get_frontend_open_orders", "frontendOpenOrders")

    report = parse_open_orders(raw, coin="INJ", ts_local=TS_LOCAL, channel="frontendOpenOrders")

    assert len(report.orders) == 3
    assert {order.venue_order_id for order in report.orders} == {3184595905, 3184595906, 3184595907}


@needs_cassettes
def test_recorded_user_state_reports_twelve_signed_positions() -> None:
    raw = recorded("test_get_user_state", "clearinghouseState")

    positions = parse_positions(raw, ts_local=TS_LOCAL)

    assert len(positions) == 12
    assert positions["BTC"].position == Decimal("-0.00785")
    assert positions["BTC"].average_entry == Decimal("26951.0")
    assert positions["ETH"].position == Decimal("0.1334")
    assert positions["BTC"].ts_exchange == TS_LOCAL  # the 2023 recording has no "time"


@needs_cassettes
def test_a_coin_without_a_position_is_reported_flat() -> None:
    raw = recorded("test_get_user_state", "clearinghouseState")

    position = parse_position(raw, coin="NOPE", ts_local=TS_LOCAL)

    assert (position.position, position.average_entry) == (Decimal(0), Decimal(0))


@needs_cassettes
def test_recorded_user_state_gives_the_accounts_margin_use() -> None:
    raw = recorded("test_get_user_state", "clearinghouseState")

    margin = parse_margin(raw, ts_local=TS_LOCAL)

    assert margin.account_value == Decimal("1182.312496")
    assert margin.margin_used == Decimal("171.740766")
    assert round(margin.use, 4) == Decimal("0.1453")


@pytest.mark.parametrize(
    "state",
    [
        {"assetPositions": []},
        {"marginSummary": {"accountValue": "100.0"}},
        {"marginSummary": {"accountValue": 100, "totalMarginUsed": "1.0"}},
        {"marginSummary": {"accountValue": "100.0", "totalMarginUsed": "-1.0"}},
    ],
    ids=["no summary", "no margin used", "a number, not a string", "negative margin"],
)
def test_a_margin_summary_that_cannot_be_read_is_a_parse_error(state: object) -> None:
    with pytest.raises(FeedParseError):
        parse_margin(state, ts_local=TS_LOCAL)


@needs_cassettes
def test_recorded_rate_limit_shows_requests_left() -> None:
    limit = parse_user_rate_limit(recorded("test_user_rate_limit", "userRateLimit"))

    assert limit.requests_cap == 170043731737
    assert limit.requests_left == 170043731737 - 36589831368
    assert limit.cumulative_volume == Decimal("170043721737.450012207")


@needs_cassettes
def test_recorded_historical_orders_map_venue_statuses_to_protocol_statuses() -> None:
    reports = parse_order_updates(
        recorded("test_historical_orders", "historicalOrders"),
        ts_local=TS_LOCAL,
        channel="historicalOrders",
    )

    ton = reports[0]
    assert (ton.coin, ton.venue_status, ton.status) == (
        "TON",
        "iocCancelRejected",
        OrderStatus.REJECTED,
    )
    assert ton.reject_reason is RejectReason.IOC_NO_MATCH
    assert ton.cloid is None
    assert ton.original_size == Decimal("81.7")
    assert {report.status for report in reports} <= {OrderStatus.REJECTED, OrderStatus.CANCELLED}


def test_meta_skips_delisted_coins_but_they_keep_their_asset_id_slot() -> None:
    meta = {
        "universe": [
            {"name": "BTC", "szDecimals": 5, "maxLeverage": 50},
            {"name": "LOOM", "szDecimals": 1, "maxLeverage": 3, "isDelisted": True},
            {"name": "HPOS", "szDecimals": 0, "maxLeverage": 3, "onlyIsolated": True},
        ]
    }

    listed = parse_meta(meta)
    everything = parse_meta(meta, include_delisted=True)
    from_pair = parse_meta_and_asset_ctxs([meta, [{}, {}, {}]])
    builder_dex = parse_meta(meta, dex_index=1)

    assert sorted(listed) == ["BTC", "HPOS"]
    assert listed["HPOS"].asset_id == 2
    assert everything["LOOM"].asset_id == 1
    assert from_pair == listed
    assert builder_dex["BTC"].asset_id == 110000


def test_an_unknown_coin_error_suggests_the_coin_probably_meant() -> None:
    instruments = parse_meta({"universe": [{"name": "BTC", "szDecimals": 5, "maxLeverage": 50}]})

    with pytest.raises(UnknownCoinError, match="did you mean BTC"):
        instrument_for(instruments, "BTCC")


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"universe": "x"},
        {"universe": [{"name": "X"}]},
        {"universe": [{"name": "X", "szDecimals": 9}]},
    ],
)
def test_malformed_meta_is_a_parse_error(payload: object) -> None:
    with pytest.raises(FeedParseError):
        parse_meta(payload)
