"""Feed frames (bbo, trades, userFills, orderUpdates) and malformed input: every parser raises
its typed error, never a KeyError."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from makerd.protocol.account import Liquidity
from makerd.protocol.orders import OrderStatus
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.errors import (
    FeedParseError,
)
from makerd.venues.hyperliquid.parse import (
    parse_bbo,
    parse_fills,
    parse_l2_book,
    parse_open_orders_by_coin,
    parse_order_updates,
    parse_positions,
    parse_trades,
    parse_user_fills_message,
)

TS_LOCAL = 1_800_000_000_123_456_789


def test_a_bbo_frame_with_an_empty_side_gives_a_one_sided_top_of_book() -> None:
    frame = {
        "coin": "BTC",
        "time": 1754450974231,
        "bbo": [{"px": "113377.0", "sz": "7.6699", "n": 17}, None],
    }

    book = parse_bbo(frame, ts_local=TS_LOCAL)

    assert book.bids[0].price == Decimal("113377.0")
    assert book.bids[0].orders == 17
    assert book.asks == ()
    assert book.ts_exchange == 1754450974231 * 1_000_000


def test_trades_carry_the_aggressor_side_and_a_coin_scoped_trade_id() -> None:
    frame = [
        {
            "coin": "SOL",
            "side": "A",
            "px": "150.1",
            "sz": "2",
            "hash": "0xab",
            "time": 1,
            "tid": 42,
            "users": ["0x1", "0x2"],
        }
    ]

    (trade,) = parse_trades(frame, ts_local=TS_LOCAL)

    assert (trade.side, trade.price, trade.size, trade.trade_id) == (
        Side.SELL,
        Decimal("150.1"),
        Decimal(2),
        "SOL:42",
    )


def _ws_fill(**overrides: Any) -> dict[str, Any]:
    fill = {
        "coin": "AVAX", "px": "18.435", "sz": "93.53", "side": "B", "time": 1681222254710,
        "startPosition": "26.86", "dir": "Open Long", "closedPnl": "0.0", "hash": "0xa166",
        "oid": 90542681, "crossed": False, "fee": "-0.0017", "feeToken": "USDC",
        "tid": 118906512037719,
    }  # fmt: skip
    fill.update(overrides)
    return fill


def test_a_user_fills_snapshot_is_flagged_and_live_frames_default_to_not_snapshot() -> None:
    snapshot = {"isSnapshot": True, "user": "0xabc", "fills": [_ws_fill(cloid="0x" + "1" * 32)]}
    live = {"user": "0xabc", "fills": [_ws_fill(crossed=True, fee="0.01")]}

    first = parse_user_fills_message(snapshot, ts_local=TS_LOCAL)
    later = parse_user_fills_message(live, ts_local=TS_LOCAL)

    assert first.is_snapshot is True
    assert later.is_snapshot is False
    maker, taker = first.fills[0], later.fills[0]
    assert (maker.trade_id, maker.cloid, maker.liquidity) == (
        "AVAX:118906512037719",
        "0x" + "1" * 32,
        Liquidity.MAKER,
    )
    assert maker.fee == Decimal("-0.0017")
    assert (taker.liquidity, taker.fee, taker.cloid) == (Liquidity.TAKER, Decimal("0.01"), None)


def test_order_updates_report_rejections_with_their_reason_and_resting_orders_as_open() -> None:
    def update(status: str) -> dict[str, Any]:
        order = {"coin": "ETH", "side": "A", "limitPx": "2412.7", "sz": "0.5", "oid": 7,
                 "timestamp": 1, "origSz": "0.5", "cloid": "0x" + "2" * 32}  # fmt: skip
        return {"order": order, "status": status, "statusTimestamp": 1724361546645}

    opened, rejected, cancelled = parse_order_updates(
        [update("open"), update("badAloPxRejected"), update("scheduledCancel")], ts_local=TS_LOCAL
    )

    assert (opened.status, opened.reject_reason) == (OrderStatus.OPEN, None)
    assert (rejected.status, rejected.reject_reason) == (
        OrderStatus.REJECTED,
        RejectReason.POST_ONLY_WOULD_CROSS,
    )
    assert cancelled.status is OrderStatus.CANCELLED
    assert opened.ts_exchange == 1724361546645 * 1_000_000


@pytest.mark.parametrize(
    ("parser", "payload"),
    [
        (parse_l2_book, {"coin": "BTC", "time": 1, "levels": [[]]}),
        (parse_l2_book, {"coin": "BTC", "time": 1, "levels": [[{"px": "1", "sz": "1"}], []]}),
        (parse_l2_book, {"coin": "BTC", "time": "1", "levels": [[], []]}),
        (parse_bbo, {"coin": "BTC", "time": 1, "bbo": [None]}),
        (parse_trades, [{"coin": "SOL", "side": "X", "px": "1", "sz": "1", "time": 1, "tid": 1}]),
        (parse_trades, [{"coin": "SOL", "side": "A", "px": "NaN", "sz": "1", "time": 1, "tid": 1}]),
        (parse_fills, [_ws_fill(crossed="no")]),
        (parse_fills, [_ws_fill(px="-1")]),
        (parse_fills, [_ws_fill(oid=True)]),
        (parse_fills, [{k: v for k, v in _ws_fill().items() if k not in {"tid", "hash"}}]),
        (parse_user_fills_message, {"user": "0x", "isSnapshot": "yes", "fills": []}),
        (parse_order_updates, [{"order": None, "status": "open", "statusTimestamp": 1}]),
        (parse_open_orders_by_coin, {"coin": "BTC"}),
        (parse_positions, {"assetPositions": [{"position": {"coin": "BTC", "szi": "x"}}]}),
    ],
)
def test_malformed_frames_raise_a_typed_parse_error_never_a_key_error(
    parser: Any, payload: object
) -> None:
    with pytest.raises(FeedParseError) as error:
        parser(payload, ts_local=TS_LOCAL)

    assert error.value.channel
    assert error.value.reason


FEED_PARSERS = (
    parse_l2_book,
    parse_bbo,
    parse_trades,
    parse_fills,
    parse_order_updates,
    parse_open_orders_by_coin,
    parse_positions,
    parse_user_fills_message,
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=5)
    | st.sampled_from(["1.5", "B", "A"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["coin", "time", "levels", "px", "sz", "n", "bbo", "side", "tid", "oid", "fills"]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(payload=JSON_VALUES)
def test_arbitrary_json_only_ever_raises_the_typed_parse_error(payload: object) -> None:
    for parser in FEED_PARSERS:
        try:
            parser(payload, ts_local=TS_LOCAL)
        except FeedParseError:
            continue
