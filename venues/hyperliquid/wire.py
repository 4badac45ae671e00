"""Protocol commands → Hyperliquid ``/exchange`` action dicts, in the SDK's key order.

The signature covers the msgpack bytes of the action, so key order and number
rendering are part of the contract: order wires are ``a,b,p,s,r,t[,c]``, a trigger
order's ``t`` is ``{"trigger": {isMarket, triggerPx, tpsl}}``, actions are
``type,orders,grouping[,builder]`` (the key order the signature hashes), and decimals are
rendered the way the SDK's ``float_to_wire`` renders the same value. Nothing here rounds: a price or
size that is not already legal for its :class:`Instrument` is refused with
:class:`OrderRuleError`, because a silently re-rounded order is a different order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Final, Literal, NotRequired, TypedDict

from makerd.protocol.instrument import Instrument, OrderRuleError
from makerd.protocol.orders import OrderRequest, TriggerKind
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.meta import instrument_for

Tif = Literal["Alo", "Gtc", "Ioc"]
Grouping = Literal["na", "normalTpsl", "positionTpsl"]
TpSl = Literal["tp", "sl"]


class LimitWire(TypedDict):
    tif: Tif


class OrderTypeWire(TypedDict):
    limit: LimitWire


class TriggerWire(TypedDict):
    # The venue's own camelCase keys, in the order the signature hashes them.
    isMarket: bool
    triggerPx: str
    tpsl: TpSl


class TriggerOrderTypeWire(TypedDict):
    trigger: TriggerWire


class OrderWire(TypedDict):
    a: int
    b: bool
    p: str
    s: str
    r: bool
    t: OrderTypeWire | TriggerOrderTypeWire
    c: NotRequired[str]


class BuilderWire(TypedDict):
    b: str
    f: int


class OrderAction(TypedDict):
    type: Literal["order"]
    orders: list[OrderWire]
    grouping: Grouping
    builder: NotRequired[BuilderWire]


class CancelWire(TypedDict):
    a: int
    o: int


class CancelAction(TypedDict):
    type: Literal["cancel"]
    cancels: list[CancelWire]


class CancelByCloidWire(TypedDict):
    asset: int
    cloid: str


class CancelByCloidAction(TypedDict):
    type: Literal["cancelByCloid"]
    cancels: list[CancelByCloidWire]


class ModifyWire(TypedDict):
    oid: int | str
    order: OrderWire


class BatchModifyAction(TypedDict):
    type: Literal["batchModify"]
    modifies: list[ModifyWire]


class ScheduleCancelAction(TypedDict):
    type: Literal["scheduleCancel"]
    time: NotRequired[int]


_CLOID_PATTERN: Final = re.compile(r"0x[0-9a-f]{32}")
_HALF_CLOID_LIMIT: Final = 1 << 64
_SDK_WIRE_DECIMALS: Final = 8
_EXACT: Final = Context(prec=60)


@dataclass(frozen=True, slots=True, kw_only=True)
class BuilderFee:
    """A builder code: ``address`` earns ``tenths_of_bp`` (10 = 1 bp) on each order."""

    address: str
    tenths_of_bp: int


def decimal_to_wire(value: Decimal) -> str:
    """Render a decimal the way the SDK's ``float_to_wire`` renders the same value.

    No trailing zeros, no exponent, integers without ``.0``, ``-0`` as ``0``. Values
    the SDK would refuse (more than 8 decimals) or cannot express are refused too.
    """
    if not value.is_finite():
        raise OrderRuleError("wire", f"{value} is not a finite number")
    if len(value.as_tuple().digits) > _EXACT.prec:
        raise OrderRuleError("wire", f"{value} has too many digits to render exactly")
    # An explicit wide context: the ambient one (28 digits) could round while normalizing.
    normalized = value.normalize(_EXACT)
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_SDK_WIRE_DECIMALS:
        raise OrderRuleError("wire", f"{value} has more than {_SDK_WIRE_DECIMALS} decimals")
    text = f"{normalized:f}"
    return "0" if text == "-0" else text


def new_cloid(session_prefix: int, counter: int) -> str:
    """A client order id: ``0x`` + 32 hex digits, ``session_prefix`` high, ``counter`` low.

    Both halves are 64-bit; a fresh prefix per session (e.g. from the start time and some
    randomness) and a counter that only goes up make every cloid unique, and reading the
    prefix back (:func:`cloid_session_prefix`) tells this session's orders from others.
    """
    for name, part in (("session_prefix", session_prefix), ("counter", counter)):
        if not 0 <= part < _HALF_CLOID_LIMIT:
            raise ValueError(f"{name} must fit in 64 bits, got {part}")
    return f"0x{session_prefix:016x}{counter:016x}"


def cloid_session_prefix(cloid: str) -> int:
    """The session prefix encoded in a cloid made by :func:`new_cloid`."""
    _require_cloid(cloid)
    return int(cloid[2:18], 16)


def is_valid_cloid(cloid: str) -> bool:
    """``0x`` followed by exactly 32 lowercase hex digits (what the venue echoes back)."""
    return _CLOID_PATTERN.fullmatch(cloid) is not None


def order_wire(order: OrderRequest, instrument: Instrument) -> OrderWire:
    """One order in wire form, after checking it is legal for ``instrument``."""
    if order.coin != instrument.coin:
        raise ValueError(f"order for {order.coin} paired with instrument {instrument.coin}")
    instrument.check_order(order.price, order.size, reduce_only=order.reduce_only)
    wire: OrderWire = {
        "a": instrument.asset_id,
        "b": order.side is Side.BUY,
        "p": decimal_to_wire(order.price),
        "s": decimal_to_wire(order.size),
        "r": order.reduce_only,
        "t": _order_type_wire(order, instrument),
    }
    _require_cloid(order.cloid)
    wire["c"] = order.cloid
    return wire


def _order_type_wire(
    order: OrderRequest, instrument: Instrument
) -> OrderTypeWire | TriggerOrderTypeWire:
    """A limit order's time in force, or a TP/SL's trigger (``p`` is then its limit)."""
    trigger = order.trigger
    if trigger is None:
        return {"limit": {"tif": order.tif.value}}
    if not instrument.is_valid_price(trigger.price):
        raise OrderRuleError(
            "tick", f"{instrument.coin} trigger price {trigger.price} is not on a tick"
        )
    tpsl: TpSl = "tp" if trigger.kind is TriggerKind.TAKE_PROFIT else "sl"
    return {
        "trigger": {
            "isMarket": trigger.is_market,
            "triggerPx": decimal_to_wire(trigger.price),
            "tpsl": tpsl,
        }
    }


def order_action(
    orders: Iterable[OrderRequest],
    instruments: Mapping[str, Instrument],
    *,
    grouping: Grouping = "na",
    builder: BuilderFee | None = None,
) -> OrderAction:
    """An ``order`` action placing ``orders`` (one signature for the whole batch)."""
    wires = [order_wire(order, instrument_for(instruments, order.coin)) for order in orders]
    if not wires:
        raise ValueError("an order action needs at least one order")
    action: OrderAction = {"type": "order", "orders": wires, "grouping": grouping}
    if builder is not None:
        # The SDK lowercases the builder address before signing; the venue hashes it so.
        action["builder"] = {"b": builder.address.lower(), "f": builder.tenths_of_bp}
    return action


def cancel_action(targets: Iterable[tuple[Instrument, int]]) -> CancelAction:
    """A ``cancel`` action for ``(instrument, venue order id)`` pairs."""
    cancels: list[CancelWire] = [{"a": inst.asset_id, "o": oid} for inst, oid in targets]
    if not cancels:
        raise ValueError("a cancel action needs at least one order")
    return {"type": "cancel", "cancels": cancels}


def cancel_by_cloid_action(targets: Iterable[tuple[Instrument, str]]) -> CancelByCloidAction:
    """A ``cancelByCloid`` action for ``(instrument, cloid)`` pairs."""
    cancels: list[CancelByCloidWire] = []
    for instrument, cloid in targets:
        _require_cloid(cloid)
        cancels.append({"asset": instrument.asset_id, "cloid": cloid})
    if not cancels:
        raise ValueError("a cancelByCloid action needs at least one order")
    return {"type": "cancelByCloid", "cancels": cancels}


def batch_modify_action(
    modifies: Iterable[tuple[int | str, OrderRequest]],
    instruments: Mapping[str, Instrument],
) -> BatchModifyAction:
    """A ``batchModify`` action: each target (venue oid or cloid) gets the new order."""
    wires: list[ModifyWire] = []
    for target, order in modifies:
        if isinstance(target, str):
            _require_cloid(target)
        wires.append(
            {"oid": target, "order": order_wire(order, instrument_for(instruments, order.coin))}
        )
    if not wires:
        raise ValueError("a batchModify action needs at least one modify")
    return {"type": "batchModify", "modifies": wires}


def schedule_cancel_action(time_ms: int | None) -> ScheduleCancelAction:
    """Arm the venue's dead-man switch at ``time_ms`` (unix ms), or clear it with None."""
    action: ScheduleCancelAction = {"type": "scheduleCancel"}
    if time_ms is not None:
        action["time"] = time_ms
    return action


def _require_cloid(cloid: str) -> None:
    if not is_valid_cloid(cloid):
        raise ValueError(f"cloid must be 0x + 32 lowercase hex digits, got {cloid!r}")
