"""Wire translation: SDK-identical dicts (values and key order), refusal of illegal orders."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hyperliquid.utils.signing import (
    float_to_wire,
    order_request_to_order_wire,
    order_wires_to_order_action,
)
from hyperliquid.utils.types import Cloid
from hypothesis import given, settings
from hypothesis import strategies as st

from makerd.protocol.instrument import Instrument, OrderRuleError
from makerd.protocol.orders import OrderRequest, TimeInForce, Trigger, TriggerKind
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.meta import UnknownCoinError
from makerd.venues.hyperliquid.wire import (
    BuilderFee,
    batch_modify_action,
    cancel_action,
    cancel_by_cloid_action,
    cloid_session_prefix,
    decimal_to_wire,
    is_valid_cloid,
    new_cloid,
    order_action,
    order_wire,
    schedule_cancel_action,
)

BTC = Instrument(coin="BTC", asset_id=0, sz_decimals=5)
ETH = Instrument(coin="ETH", asset_id=1, sz_decimals=4)
INSTRUMENTS = {"BTC": BTC, "ETH": ETH}
CLOID = "0x0000000000000001000000000000002a"


def _order(**overrides: Any) -> OrderRequest:
    fields: dict[str, Any] = {
        "cloid": CLOID,
        "coin": "BTC",
        "side": Side.BUY,
        "price": Decimal("65000"),
        "size": Decimal("0.001"),
    }
    fields.update(overrides)
    return OrderRequest(**fields)


def _in_order(value: object) -> str:
    """JSON keeps key order, so equal strings mean equal values *and* equal order."""
    return json.dumps(value)


@st.composite
def legal_orders(draw: st.DrawFn) -> tuple[Instrument, OrderRequest]:
    """An instrument and an order already rounded onto its tick, lot and minimum."""
    instrument = Instrument(coin="X", asset_id=7, sz_decimals=draw(st.integers(0, 5)))
    raw_price = draw(st.floats(min_value=1e-4, max_value=2e5, allow_nan=False))
    raw_size = draw(st.floats(min_value=1e-5, max_value=1e5, allow_nan=False))
    # Rounding up keeps tiny prices off zero (a bid below one tick floors to 0).
    price = instrument.round_price(Decimal(repr(raw_price)), Side.SELL)
    size = max(instrument.round_size(Decimal(repr(raw_size))), instrument.min_size_at(price))
    order = OrderRequest(
        cloid=new_cloid(0xABCDEF, draw(st.integers(0, 2**64 - 1))),
        coin="X",
        side=draw(st.sampled_from(Side)),
        price=price,
        size=size,
        tif=draw(st.sampled_from(TimeInForce)),
        reduce_only=draw(st.booleans()),
    )
    return instrument, order


@settings(max_examples=300, deadline=None)
@given(instrument_and_order=legal_orders())
def test_order_wires_equal_the_sdk_wire_for_every_legal_order(
    instrument_and_order: tuple[Instrument, OrderRequest],
) -> None:
    instrument, order = instrument_and_order
    sdk_request: Any = {
        "coin": "X",
        "is_buy": order.side is Side.BUY,
        "sz": float(order.size),
        "limit_px": float(order.price),
        "order_type": {"limit": {"tif": order.tif.value}},
        "reduce_only": order.reduce_only,
        "cloid": Cloid(order.cloid),
    }

    ours = order_wire(order, instrument)

    assert _in_order(ours) == _in_order(order_request_to_order_wire(sdk_request, 7))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100", "100"),
        ("100.000", "100"),
        ("1670.10", "1670.1"),
        ("1E+2", "100"),
        ("0.00000001", "0.00000001"),
        ("-0.0", "0"),
        ("123456", "123456"),
    ],
)
def test_decimals_render_like_the_sdk_float_to_wire(value: str, expected: str) -> None:
    rendered = decimal_to_wire(Decimal(value))

    assert rendered == expected
    assert rendered == float_to_wire(abs(float(value)))


@pytest.mark.parametrize("value", ["0.000000001", "NaN", "Infinity"])
def test_values_the_sdk_cannot_render_exactly_are_refused(value: str) -> None:
    with pytest.raises(OrderRuleError):
        decimal_to_wire(Decimal(value))


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"price": Decimal("65000.5")}, "tick"),
        ({"size": Decimal("0.000001")}, "lot"),
        ({"size": Decimal("0")}, "size_zero"),
        ({"size": Decimal("0.0001")}, "min_notional"),
    ],
)
def test_an_order_that_is_not_already_legal_is_refused_not_rounded(
    overrides: dict[str, Any], rule: str
) -> None:
    with pytest.raises(OrderRuleError) as refused:
        order_wire(_order(**overrides), BTC)

    assert refused.value.reason == rule


def test_a_reduce_only_order_below_the_minimum_notional_is_still_rendered() -> None:
    wire = order_wire(_order(size=Decimal("0.0001"), reduce_only=True), BTC)

    assert wire["s"] == "0.0001"
    assert wire["r"] is True


def test_an_order_action_matches_the_sdk_action_with_builder_lowercased() -> None:
    orders = [
        _order(),
        _order(coin="ETH", side=Side.SELL, price=Decimal("3000.5"), size=Decimal("0.01")),
    ]
    builder = BuilderFee(address="0xABCDEF0000000000000000000000000000000001", tenths_of_bp=10)

    action = order_action(orders, INSTRUMENTS, builder=builder)
    sdk = order_wires_to_order_action(
        [order_wire(orders[0], BTC), order_wire(orders[1], ETH)],
        {"b": "0xabcdef0000000000000000000000000000000001", "f": 10},
    )

    assert _in_order(action) == _in_order(sdk)
    assert [wire["a"] for wire in action["orders"]] == [0, 1]
    assert action["orders"][1]["t"] == {"limit": {"tif": "Alo"}}


def test_an_order_for_a_coin_outside_the_universe_names_the_coin() -> None:
    with pytest.raises(UnknownCoinError, match="BTCC"):
        order_action([_order(coin="BTCC")], INSTRUMENTS)


def test_cancel_actions_use_the_venues_two_different_key_names() -> None:
    by_oid = cancel_action([(BTC, 77738308), (ETH, 5)])
    by_cloid = cancel_by_cloid_action([(ETH, CLOID)])

    assert _in_order(by_oid) == _in_order(
        {"type": "cancel", "cancels": [{"a": 0, "o": 77738308}, {"a": 1, "o": 5}]}
    )
    assert _in_order(by_cloid) == _in_order(
        {"type": "cancelByCloid", "cancels": [{"asset": 1, "cloid": CLOID}]}
    )


def test_batch_modify_targets_an_oid_or_a_cloid_with_a_full_order_wire() -> None:
    order = _order(price=Decimal("64000"))

    action = batch_modify_action([(91490942, order), (CLOID, order)], INSTRUMENTS)

    expected_order = order_wire(order, BTC)
    assert _in_order(action) == _in_order(
        {
            "type": "batchModify",
            "modifies": [
                {"oid": 91490942, "order": expected_order},
                {"oid": CLOID, "order": expected_order},
            ],
        }
    )


def test_schedule_cancel_sets_a_time_or_omits_it_to_clear() -> None:
    assert schedule_cancel_action(1_700_000_010_000) == {
        "type": "scheduleCancel",
        "time": 1_700_000_010_000,
    }
    assert schedule_cancel_action(None) == {"type": "scheduleCancel"}


def test_empty_batches_are_refused_rather_than_sent() -> None:
    with pytest.raises(ValueError, match="at least one"):
        order_action([], INSTRUMENTS)
    with pytest.raises(ValueError, match="at least one"):
        cancel_action([])


def test_cloids_are_deterministic_unique_per_counter_and_carry_their_session() -> None:
    first = new_cloid(0x1234, 1)
    again = new_cloid(0x1234, 1)
    second = new_cloid(0x1234, 2)
    other_session = new_cloid(0x9999, 1)

    assert first == again == "0x00000000000012340000000000000001"
    assert len({first, second, other_session}) == 3
    assert all(is_valid_cloid(cloid) for cloid in (first, second, other_session))
    assert cloid_session_prefix(second) == 0x1234


@pytest.mark.parametrize(("prefix", "counter"), [(-1, 0), (0, 2**64), (2**64, 0)])
def test_cloid_parts_outside_64_bits_are_refused(prefix: int, counter: int) -> None:
    with pytest.raises(ValueError, match="64 bits"):
        new_cloid(prefix, counter)


def test_a_malformed_cloid_never_reaches_the_wire() -> None:
    with pytest.raises(ValueError, match="cloid"):
        order_wire(_order(cloid="0x1234"), BTC)
    with pytest.raises(ValueError, match="cloid"):
        cancel_by_cloid_action([(BTC, "0X" + "A" * 32)])


@pytest.mark.parametrize(
    ("kind", "is_market", "trigger_price"),
    [
        (TriggerKind.TAKE_PROFIT, True, "66300"),
        (TriggerKind.STOP_LOSS, True, "63700"),
        (TriggerKind.STOP_LOSS, False, "63700"),
    ],
)
def test_a_trigger_order_wire_equals_the_sdk_wire_key_for_key(
    kind: TriggerKind, is_market: bool, trigger_price: str
) -> None:
    order = _order(
        side=Side.SELL,
        price=Decimal("63000"),
        reduce_only=True,
        trigger=Trigger(price=Decimal(trigger_price), kind=kind, is_market=is_market),
    )
    sdk_request: Any = {
        "coin": "BTC",
        "is_buy": False,
        "sz": 0.001,
        "limit_px": 63000.0,
        "order_type": {
            "trigger": {
                "triggerPx": float(trigger_price),
                "isMarket": is_market,
                "tpsl": kind.value,
            }
        },
        "reduce_only": True,
        "cloid": Cloid(CLOID),
    }

    ours = order_wire(order, BTC)

    assert _in_order(ours) == _in_order(order_request_to_order_wire(sdk_request, 0))
    assert list(ours["t"]) == ["trigger"]


def test_a_trigger_price_off_the_tick_is_refused_not_rounded() -> None:
    trigger = Trigger(price=Decimal("63700.5"), kind=TriggerKind.STOP_LOSS)

    with pytest.raises(OrderRuleError) as refused:
        order_wire(_order(side=Side.SELL, reduce_only=True, trigger=trigger), BTC)

    assert refused.value.reason == "tick"
