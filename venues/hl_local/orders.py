"""The order-related actions: ``order``, ``cancel``, ``cancelByCloid``, ``modify``, ``batchModify``.

Each item gets its own status (``resting`` / ``filled`` / ``"success"`` / ``error``) in
request order; a body that does not deserialize gets HTTP 422.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from makerd.venues.hl_local.accounts import Account
from makerd.venues.hl_local.engine import MatchingEngine
from makerd.venues.hl_local.wire import (
    HttpReply,
    OrderRequest,
    default_ok,
    deserialize_error,
    error_response,
    ok_response,
)

CLOID_PATTERN = re.compile(r"^0x[0-9a-fA-F]{32}$")
TIFS = frozenset({"Alo", "Gtc", "Ioc"})
TRIGGER_UNSUPPORTED = "Trigger orders are not supported by the local venue."


class _MalformedError(ValueError):
    """An item that does not deserialize; the whole request gets HTTP 422."""


def run_order_action(engine: MatchingEngine, account: Account, action: dict[str, Any]) -> HttpReply:
    """Run one order-family action for ``account``."""
    try:
        return _run(engine, account, action)
    except _MalformedError as malformed:
        return deserialize_error(str(malformed))


def _run(engine: MatchingEngine, account: Account, action: dict[str, Any]) -> HttpReply:
    kind = action["type"]
    if kind == "order":
        if action.get("grouping", "na") != "na":
            return HttpReply.json(
                error_response("Only grouping na is supported by the local venue.")
            )
        statuses = [_place(engine, account, wire) for wire in _items(action, "orders")]
        return HttpReply.json(ok_response("order", statuses))
    if kind in {"cancel", "cancelByCloid"}:
        return HttpReply.json(ok_response("cancel", _cancel(engine, account, action)))
    if kind == "modify":
        status = _modify(engine, account, action)
        if "error" in status:
            return HttpReply.json(error_response(str(status["error"])))
        return HttpReply.json(default_ok())
    modifies = _items(action, "modifies")
    return HttpReply.json(ok_response("order", [_modify(engine, account, m) for m in modifies]))


def _cancel(
    engine: MatchingEngine, account: Account, action: dict[str, Any]
) -> list[dict[str, Any] | str]:
    cancels = _items(action, "cancels")
    if action["type"] == "cancel":
        return [engine.cancel(account, _int(c, "a"), _int(c, "o")) for c in cancels]
    return [engine.cancel(account, _int(c, "asset"), _cloid(c, "cloid")) for c in cancels]


def _place(engine: MatchingEngine, account: Account, wire: Any) -> dict[str, Any] | str:
    request = parse_order_wire(wire)
    if request is None:
        return {"error": TRIGGER_UNSUPPORTED}
    return engine.place(account, request)


def _modify(engine: MatchingEngine, account: Account, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _MalformedError("modify: expected an object")
    target = item.get("oid")
    if type(target) is not int:
        target = _cloid(item, "oid")
    request = parse_order_wire(item.get("order"))
    if request is None:
        return {"error": TRIGGER_UNSUPPORTED}
    return engine.modify(account, target, request)


def parse_order_wire(wire: Any) -> OrderRequest | None:
    """Parse an order wire ``{a,b,p,s,r,t,c?}``; ``None`` for a (valid) trigger order."""
    if not isinstance(wire, dict):
        raise _MalformedError("order: expected an object")
    order_type = wire.get("t")
    if not isinstance(order_type, dict):
        raise _MalformedError("order: missing field `t`")
    if "trigger" in order_type:
        return None
    limit = order_type.get("limit")
    tif = limit.get("tif") if isinstance(limit, dict) else None
    if tif not in TIFS:
        raise _MalformedError(f"order: unknown variant `{tif}` for `tif`")
    is_buy, reduce_only = wire.get("b"), wire.get("r")
    if type(is_buy) is not bool or type(reduce_only) is not bool:
        raise _MalformedError("order: `b` and `r` must be booleans")
    cloid = _cloid(wire, "c") if wire.get("c") is not None else None
    return OrderRequest(
        asset=_int(wire, "a"),
        is_buy=is_buy,
        price=_decimal(wire, "p"),
        size=_decimal(wire, "s"),
        reduce_only=reduce_only,
        tif=str(tif),
        cloid=cloid,
    )


def _items(action: dict[str, Any], key: str) -> list[Any]:
    items = action.get(key)
    if not isinstance(items, list):
        raise _MalformedError(f"missing field `{key}`")
    return items


def _int(item: Any, key: str) -> int:
    value = item.get(key) if isinstance(item, dict) else None
    if type(value) is not int:
        raise _MalformedError(f"missing or invalid field `{key}`")
    return value


def _cloid(item: Any, key: str) -> str:
    value = item.get(key) if isinstance(item, dict) else None
    if not isinstance(value, str) or not CLOID_PATTERN.match(value):
        raise _MalformedError(f"invalid cloid in field `{key}`")
    return value.lower()


def _decimal(item: dict[str, Any], key: str) -> Decimal:
    value = item.get(key)
    if not isinstance(value, str):
        raise _MalformedError(f"missing or invalid field `{key}`")
    try:
        number = Decimal(value)
    except InvalidOperation as error:
        raise _MalformedError(f"invalid decimal in field `{key}`") from error
    if not number.is_finite():
        raise _MalformedError(f"invalid decimal in field `{key}`")
    return number
