"""Hyperliquid error texts, order statuses and exchange replies → typed protocol values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from makerd.protocol.orders import OrderStatus
from makerd.protocol.rejections import RejectReason
from makerd.venues.hyperliquid.errors import (
    FeedParseError,
    FilledOnArrival,
    ItemAccepted,
    ItemRejected,
    Resting,
    classify_error,
    order_status_for,
    parse_exchange_response,
    reject_reason_for_status,
)


@pytest.mark.parametrize(
    ("message", "reason", "asset"),
    [
        ("Price must be divisible by tick size. asset=3", RejectReason.TICK, 3),
        ("Order must have minimum value of $10. asset=0", RejectReason.MIN_NOTIONAL, 0),
        ("Insufficient margin to place order. asset=0", RejectReason.INSUFFICIENT_MARGIN, 0),
        ("Reduce only order would increase position.", RejectReason.REDUCE_ONLY, None),
        (
            "Order could not immediately match against any resting orders. asset=5",
            RejectReason.IOC_NO_MATCH,
            5,
        ),
        ("Order was never placed, already canceled, or filled.", RejectReason.UNKNOWN_ORDER, None),
        (
            "Too many cumulative requests sent (97460 > 97456) for cumulative volume traded "
            "$87457.46. Place taker orders to free up 1 request per USDC traded.",
            RejectReason.RATE_LIMITED,
            None,
        ),
        ("429 Too Many Requests", RejectReason.RATE_LIMITED, None),
        ("Trading is halted.", RejectReason.HALTED, None),
        ("Invalid nonce: duplicate nonce 1713825891591", RejectReason.OTHER, None),
        ("Order price too far from oracle asset=2", RejectReason.OTHER, 2),
        (
            "Order would increase open interest while open interest is capped. asset=7",
            RejectReason.OPEN_INTEREST_CAP,
            7,
        ),
        ("Order would increase open interest too quickly", RejectReason.OPEN_INTEREST_CAP, None),
        (
            "Order rejected due to price more aggressive than oracle while at open interest cap",
            RejectReason.OPEN_INTEREST_CAP,
            None,
        ),
    ],
)
def test_venue_error_texts_map_to_reject_reasons_keeping_the_message(
    message: str, reason: RejectReason, asset: int | None
) -> None:
    error = classify_error(message)

    assert (error.reason, error.asset, error.message) == (reason, asset, message)


def test_a_post_only_rejection_exposes_the_quoted_bbo() -> None:
    error = classify_error(
        "Post only order would have immediately matched, bbo was 64990.5@64991. asset=0"
    )

    assert error.reason is RejectReason.POST_ONLY_WOULD_CROSS
    assert error.bbo == (Decimal("64990.5"), Decimal("64991"))
    assert error.asset == 0


@pytest.mark.parametrize(
    ("status", "expected", "reason"),
    [
        ("open", OrderStatus.OPEN, None),
        ("filled", OrderStatus.FILLED, None),
        ("canceled", OrderStatus.CANCELLED, None),
        ("marginCanceled", OrderStatus.CANCELLED, None),
        ("tickRejected", OrderStatus.REJECTED, RejectReason.TICK),
        ("minTradeNtlRejected", OrderStatus.REJECTED, RejectReason.MIN_NOTIONAL),
        ("oracleRejected", OrderStatus.REJECTED, RejectReason.OTHER),
        (
            "positionIncreaseAtOpenInterestCapRejected",
            OrderStatus.REJECTED,
            RejectReason.OPEN_INTEREST_CAP,
        ),
        ("openInterestIncreaseRejected", OrderStatus.REJECTED, RejectReason.OPEN_INTEREST_CAP),
        ("openInterestCapCanceled", OrderStatus.CANCELLED, None),
        ("somethingNew", OrderStatus.UNKNOWN, None),
    ],
)
def test_order_status_names_map_to_protocol_statuses(
    status: str, expected: OrderStatus, reason: RejectReason | None
) -> None:
    assert order_status_for(status) is expected
    assert reject_reason_for_status(status) is reason


def test_an_order_reply_gives_one_typed_status_per_order() -> None:
    reply = {
        "status": "ok",
        "response": {
            "type": "order",
            "data": {
                "statuses": [
                    {"resting": {"oid": 77738308, "cloid": "0x" + "3" * 32}},
                    {"filled": {"totalSz": "0.02", "avgPx": "1891.4", "oid": 77747314}},
                    {"error": "Order must have minimum value of $10. asset=4"},
                    "waitingForFill",
                ]
            },
        },
    }

    response = parse_exchange_response(reply)

    resting, filled, rejected, waiting = response.statuses
    assert response.error is None
    assert resting == Resting(oid=77738308, cloid="0x" + "3" * 32)
    assert filled == FilledOnArrival(
        oid=77747314, cloid=None, total_size=Decimal("0.02"), average_price=Decimal("1891.4")
    )
    assert isinstance(rejected, ItemRejected)
    assert (rejected.error.reason, rejected.error.asset) == (RejectReason.MIN_NOTIONAL, 4)
    assert waiting == ItemAccepted(status="waitingForFill")


def test_a_top_level_rejection_is_a_whole_action_error_not_an_item_status() -> None:
    reply = {
        "status": "err",
        "response": "Too many cumulative requests sent (97460 > 97456) for cumulative volume "
        "traded $87457.46. Place taker orders to free up 1 request per USDC traded.",
    }

    response = parse_exchange_response(reply)

    assert response.statuses == ()
    assert response.error is not None
    assert response.error.reason is RejectReason.RATE_LIMITED


def test_a_default_reply_has_no_statuses_and_a_cancel_reply_reports_success() -> None:
    default = parse_exchange_response({"status": "ok", "response": {"type": "default"}})
    cancel = parse_exchange_response(
        {"status": "ok", "response": {"type": "cancel", "data": {"statuses": ["success"]}}}
    )

    assert (default.error, default.statuses) == (None, ())
    assert cancel.statuses == (ItemAccepted(status="success"),)


@pytest.mark.parametrize(
    "reply",
    [
        None,
        {"status": "maybe"},
        {"status": "ok", "response": {"type": "order", "data": {"statuses": [{"odd": 1}]}}},
        {"status": "ok", "response": {"type": "order", "data": {"statuses": [{"resting": {}}]}}},
        {
            "status": "ok",
            "response": {
                "type": "order",
                "data": {"statuses": [{"filled": {"oid": 1, "totalSz": "x", "avgPx": "1"}}]},
            },
        },
    ],
)
def test_a_malformed_exchange_reply_is_a_parse_error(reply: object) -> None:
    with pytest.raises(FeedParseError):
        parse_exchange_response(reply)
