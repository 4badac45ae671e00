"""Hostile WebSocket frames for the ``malformed_frames`` fault: pure builders, no I/O.

Each kind is built from real traffic so that it looks like it: a market kind is the
latest real ``l2Book`` push of the connection with one thing wrong (same coin, levels
and time otherwise); a user kind names the connection's subscribed user. A client must
refuse every one of them and count it (tests/test_frame_boundary_e2e.py lists the reason
each is counted under); none of them may move its state.

Market kinds: ``binary`` (not UTF-8), ``deep_json`` (100k-deep arrays), ``not_json``,
``unknown_channel``, ``missing_fields`` (a book without levels), ``wrong_coin`` (another
listed coin), ``unknown_coin`` (an unlisted one), ``future_time`` (a day ahead),
``huge_time`` (10^30 ms), ``crossed_book``, ``zero_price``, ``zero_size``, ``huge_price``
(400 digits), ``long_price`` (a million characters), ``double_price`` (every level at
twice the real price).

User kinds: ``binary``, ``not_json``, ``unknown_channel``, ``missing_fields`` (userFills
without fills), ``zero_fill_price``, ``zero_fill_size``, ``huge_fill_time`` (10^30 ms),
``long_fill_price`` (a million characters), ``zero_order_price`` (an orderUpdates push).

The names ``binary``, ``not_json``, ``unknown_channel`` and ``missing_fields`` exist on
both streams, so the catalogue maps each name to the streams it is sent on.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Literal, TypedDict

HostileStream = Literal["market", "user"]
Frame = str | bytes
"""Text frames are JSON-looking text; ``bytes`` go out as binary frames."""

DAY_MS = 86_400_000
HUGE_TIME_MS = 10**30
DEEP_JSON_DEPTH = 100_000
LONG_CHARS = 1_000_000
UNLISTED_COIN = "NOPE"
HEAVY_EVERY = 250
"""Heavy kinds (about a megabyte each) take one frame slot in this many: a few prove the
point without flooding loopback or starving the real traffic."""


class Level(TypedDict):
    px: str
    sz: str
    n: int


class BookData(TypedDict):
    coin: str
    time: int
    levels: list[list[Level]]


class BookFrame(TypedDict):
    """An ``l2Book`` push: bids then asks, best first, both sides non-empty."""

    channel: str
    data: BookData


MARKET_KINDS: tuple[str, ...] = (
    "binary", "deep_json", "not_json", "unknown_channel", "missing_fields", "wrong_coin",
    "unknown_coin", "future_time", "huge_time", "crossed_book", "zero_price", "zero_size",
    "huge_price", "long_price", "double_price",
)  # fmt: skip
USER_KINDS: tuple[str, ...] = (
    "binary", "not_json", "unknown_channel", "missing_fields", "zero_fill_price",
    "zero_fill_size", "huge_fill_time", "long_fill_price", "zero_order_price",
)  # fmt: skip
HEAVY_KINDS = frozenset({"deep_json", "long_price", "long_fill_price"})
KINDS_BY_STREAM: Mapping[HostileStream, tuple[str, ...]] = MappingProxyType(
    {"market": MARKET_KINDS, "user": USER_KINDS}
)
CATALOGUE: Mapping[str, frozenset[HostileStream]] = MappingProxyType(
    {
        name: frozenset(stream for stream, names in KINDS_BY_STREAM.items() if name in names)
        for name in dict.fromkeys((*MARKET_KINDS, *USER_KINDS))
    }
)
"""Every kind name → the streams it is sent on, in catalogue order."""


def kind_at(kinds: Sequence[str], index: int) -> str:
    """The kind of the ``index``-th hostile frame of a connection: the light kinds in
    rotation, a heavy one (in rotation too) in slot ``HEAVY_EVERY - 1`` of each
    ``HEAVY_EVERY``. ``kinds`` must hold a light kind."""
    heavy = [kind for kind in kinds if kind in HEAVY_KINDS]
    light = [kind for kind in kinds if kind not in HEAVY_KINDS]
    if heavy and index % HEAVY_EVERY == HEAVY_EVERY - 1:
        return heavy[(index // HEAVY_EVERY) % len(heavy)]
    return light[index % len(light)]


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))  # the venue's own framing


def _edited(book: BookFrame, edit: Callable[[BookData], None]) -> str:
    frame = copy.deepcopy(book)
    edit(frame["data"])
    return _dumps(frame)


def _set_top_bid(key: Literal["px", "sz"], value: str) -> Callable[[BookData], None]:
    def edit(data: BookData) -> None:
        data["levels"][0][0][key] = value

    return edit


def _set_coin(coin: str) -> Callable[[BookData], None]:
    def edit(data: BookData) -> None:
        data["coin"] = coin

    return edit


def _set_time(time_ms: Callable[[int], int]) -> Callable[[BookData], None]:
    def edit(data: BookData) -> None:
        data["time"] = time_ms(data["time"])

    return edit


def _cross(data: BookData) -> None:
    bids, asks = data["levels"]
    bids[0]["px"] = str(Decimal(asks[0]["px"]) + 1)


def _double(data: BookData) -> None:
    for side in data["levels"]:
        for level in side:
            level["px"] = str(Decimal(level["px"]) * 2)


_BOOK_EDITS: Mapping[str, Callable[[BookData], None]] = MappingProxyType(
    {
        "unknown_coin": _set_coin(UNLISTED_COIN),
        "future_time": _set_time(lambda real: real + DAY_MS),
        "huge_time": _set_time(lambda _: HUGE_TIME_MS),
        "crossed_book": _cross,
        "zero_price": _set_top_bid("px", "0"),
        "zero_size": _set_top_bid("sz", "0"),
        "huge_price": _set_top_bid("px", "9" * 400),
        "long_price": _set_top_bid("px", "1" * LONG_CHARS),
        "double_price": _double,
    }
)


_FIXED_MARKET: Mapping[str, Frame] = MappingProxyType(
    {
        "binary": b"\xff\xfe\x00\x81hostile",
        "deep_json": "[" * DEEP_JSON_DEPTH + "]" * DEEP_JSON_DEPTH,
        "not_json": '{"channel":"l2Book","data":',
    }
)


def market_frame(kind: str, book: BookFrame, *, other_coin: str) -> Frame:
    """Market ``kind`` built from the real ``book`` push; ``other_coin`` is another
    listed coin (for ``wrong_coin``). Raises ``KeyError`` for a name not of the market."""
    data = book["data"]
    if kind in _FIXED_MARKET:
        return _FIXED_MARKET[kind]
    if kind == "unknown_channel":
        return _dumps({"channel": "candle", "data": data})
    if kind == "missing_fields":
        kept = {"coin": data["coin"], "time": data["time"]}
        return _dumps({"channel": book["channel"], "data": kept})
    if kind == "wrong_coin":
        return _edited(book, _set_coin(other_coin))
    return _edited(book, _BOOK_EDITS[kind])


def _fill(user: str, now_ms: int, **overrides: object) -> str:
    fill: dict[str, object] = {
        "coin": "BTC", "px": "100.0", "sz": "0.001", "side": "B", "time": now_ms,
        "startPosition": "0.0", "dir": "Open Long", "closedPnl": "0.0", "hash": "0x1",
        "oid": 1, "crossed": False, "fee": "0.0", "feeToken": "USDC", "tid": 1,
    }  # fmt: skip
    fill.update(overrides)
    return _dumps({"channel": "userFills", "data": {"user": user, "fills": [fill]}})


def _zero_order_price(now_ms: int) -> str:
    order = {"coin": "BTC", "side": "B", "limitPx": "0", "sz": "0.001", "oid": 1,
             "timestamp": now_ms, "origSz": "0.001"}  # fmt: skip
    status = {"order": order, "status": "open", "statusTimestamp": now_ms}
    return _dumps({"channel": "orderUpdates", "data": [status]})


_FILL_OVERRIDES: Mapping[str, Mapping[str, object]] = MappingProxyType(
    {
        "zero_fill_price": {"px": "0"},
        "zero_fill_size": {"sz": "0"},
        "huge_fill_time": {"time": HUGE_TIME_MS},
        "long_fill_price": {"px": "1" * LONG_CHARS},
    }
)


_FIXED_USER: Mapping[str, Frame] = MappingProxyType(
    {"binary": b"\x80\x81\xfe", "not_json": '{"channel":"userFills","data":{'}
)


def user_frame(kind: str, user: str, *, now_ms: int) -> Frame:
    """User ``kind`` naming ``user``. Raises ``KeyError`` for a name not of the user stream."""
    if kind in _FIXED_USER:
        return _FIXED_USER[kind]
    if kind == "unknown_channel":
        return _dumps({"channel": "userTwapHistory", "data": {"user": user, "history": []}})
    if kind == "missing_fields":
        return _dumps({"channel": "userFills", "data": {"user": user}})
    if kind == "zero_order_price":
        return _zero_order_price(now_ms)
    return _fill(user, now_ms, **_FILL_OVERRIDES[kind])
