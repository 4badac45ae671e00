"""JSON shapes of orders, fills, trades and books exactly as Hyperliquid sends them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from makerd.venues.hl_local.book import Level, RestingOrder
from makerd.venues.hl_local.universe import wire_decimal

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """One order of an ``order`` or ``batchModify`` action, parsed from its wire form."""

    asset: int
    is_buy: bool
    price: Decimal
    size: Decimal
    reduce_only: bool
    tif: str
    cloid: str | None


def basic_order_json(order: RestingOrder) -> JsonDict:
    """The order object of ``openOrders`` and ``orderUpdates``."""
    payload: JsonDict = {
        "coin": order.coin,
        "side": order.side_code,
        "limitPx": wire_decimal(order.limit_px),
        "sz": wire_decimal(order.remaining),
        "oid": order.oid,
        "timestamp": order.timestamp_ms,
        "origSz": wire_decimal(order.orig_size),
    }
    if order.cloid is not None:
        payload["cloid"] = order.cloid
    return payload


def frontend_order_json(order: RestingOrder) -> JsonDict:
    """The order object of ``frontendOpenOrders`` and ``orderStatus``."""
    return {
        "coin": order.coin,
        "side": order.side_code,
        "limitPx": wire_decimal(order.limit_px),
        "sz": wire_decimal(order.remaining),
        "oid": order.oid,
        "timestamp": order.timestamp_ms,
        "triggerCondition": "N/A",
        "isTrigger": False,
        "triggerPx": "0.0",
        "children": [],
        "isPositionTpsl": False,
        "reduceOnly": order.reduce_only,
        "orderType": "Limit",
        "origSz": wire_decimal(order.orig_size),
        "tif": order.tif,
        "cloid": order.cloid,
    }


def open_order_json(order: RestingOrder) -> JsonDict:
    """The item of ``openOrders``."""
    return {
        "coin": order.coin,
        "limitPx": wire_decimal(order.limit_px),
        "oid": order.oid,
        "side": order.side_code,
        "sz": wire_decimal(order.remaining),
        "timestamp": order.timestamp_ms,
    }


def levels_json(bids: list[Level], asks: list[Level]) -> list[list[JsonDict]]:
    return [
        [_level_json(level) for level in bids],
        [_level_json(level) for level in asks],
    ]


def _level_json(level: Level) -> JsonDict:
    return {"px": wire_decimal(level.price), "sz": wire_decimal(level.size), "n": level.count}


def with_cloid(body: JsonDict, cloid: str | None) -> JsonDict:
    if cloid is not None:
        body["cloid"] = cloid
    return body


def ok_response(response_type: str, statuses: list[Any]) -> JsonDict:
    """The ``status: ok`` envelope of order, cancel and modify actions."""
    return {"status": "ok", "response": {"type": response_type, "data": {"statuses": statuses}}}


def default_ok() -> JsonDict:
    return {"status": "ok", "response": {"type": "default"}}


def error_response(message: str) -> JsonDict:
    """The top-level refusal (signature, nonce, account, rate limit)."""
    return {"status": "err", "response": message}


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpReply:
    """An HTTP answer: a JSON document, or plain text for 4xx transport errors."""

    status: int
    body: JsonDict | list[Any] | str

    @staticmethod
    def json(body: JsonDict | list[Any]) -> HttpReply:
        return HttpReply(status=200, body=body)


def deserialize_error(detail: str) -> HttpReply:
    """The exchange's HTTP 422 for a body it cannot parse (plain text, as the SDK expects)."""
    return HttpReply(
        status=422, body=f"Failed to deserialize the JSON body into the target type: {detail}"
    )
