"""Typed reads of one field of a decoded venue object, each refusal with a named reason.

A missing key is ``missing_field``; a present one of the wrong type ``bad_field``; a
decimal that is not a short plain digit string, or out of its range, is ``bad_price``,
``bad_size`` or ``bad_number`` (the caller says which it is).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from makerd.protocol.market import DropReason
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.errors import FeedParseError, clip
from makerd.venues.hyperliquid.limits import FrameGuard

JsonObject = dict[str, object]
NS_PER_MS: Final = 1_000_000
_SIDES: Final = {"B": Side.BUY, "A": Side.SELL}
# What the exchange sends: no exponent, no sign but minus, no spaces or underscores
# (all of which Decimal() would accept).
_PLAIN_DECIMAL: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def as_object(value: object, channel: str) -> JsonObject:
    if not isinstance(value, dict):
        raise FeedParseError(channel, f"expected an object, got {type(value).__name__}")
    return value


def as_list(value: object, channel: str, what: str) -> list[object]:
    if not isinstance(value, list):
        reason = DropReason.MISSING_FIELD if value is None else DropReason.BAD_FIELD
        raise FeedParseError(channel, f"{what} is not a list", reason)
    return value


def _present(obj: JsonObject, key: str, channel: str) -> object:
    value = obj.get(key)
    if value is None:
        raise FeedParseError(channel, f"{key} is missing", DropReason.MISSING_FIELD)
    return value


def read_str(obj: JsonObject, key: str, channel: str) -> str:
    value = _present(obj, key, channel)
    if not isinstance(value, str):
        raise FeedParseError(channel, f"{key} is not a string")
    return value


def read_optional_str(obj: JsonObject, key: str, channel: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise FeedParseError(channel, f"{key} is not a string")
    return value


def read_int(obj: JsonObject, key: str, channel: str) -> int:
    value = _present(obj, key, channel)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FeedParseError(channel, f"{key} is not an integer")
    return value


def read_time_ns(
    obj: JsonObject, key: str, channel: str, *, guard: FrameGuard, ts_local: int
) -> int:
    """An exchange time (unix ms) as ns, refused when not positive or beyond the skew."""
    value = _present(obj, key, channel)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FeedParseError(channel, f"{key} is not an integer", DropReason.BAD_TIME)
    ts_exchange = value * NS_PER_MS
    guard.check_time(ts_exchange, ts_local, channel)
    return ts_exchange


def read_decimal(
    obj: JsonObject,
    key: str,
    channel: str,
    *,
    reason: DropReason,
    guard: FrameGuard,
    allow_zero: bool = False,
    signed: bool = False,
) -> Decimal:
    """A decimal string: positive unless ``allow_zero`` (≥ 0) or ``signed`` (any sign)."""
    text = _present(obj, key, channel)
    if not isinstance(text, str):
        raise FeedParseError(channel, f"{key} is not a decimal string", reason)
    if len(text) > guard.limits.max_decimal_chars:
        raise FeedParseError(channel, f"{key} is {len(text)} characters long", reason)
    if _PLAIN_DECIMAL.fullmatch(text) is None:
        raise FeedParseError(channel, f"{key} {clip(text)} is not a plain decimal", reason)
    value = Decimal(text)
    if signed or value > 0 or (allow_zero and value == 0):
        return value
    raise FeedParseError(channel, f"{key} {clip(text)} is out of range", reason)


def read_side(obj: JsonObject, channel: str) -> Side:
    text = read_str(obj, "side", channel)
    side = _SIDES.get(text)
    if side is None:
        raise FeedParseError(channel, f"side {clip(text)} is not 'B' or 'A'")
    return side
