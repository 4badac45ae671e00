"""Pure parsers: decoded Hyperliquid JSON (REST ``/info`` and WS data) → protocol events.

Every parser takes the ``data`` payload (the WS frame's ``data`` or the REST body) and
the local receive time; venue times are unix ms and become integer ns. Anything that
does not have the documented shape raises :class:`FeedParseError` (never a bare
``KeyError``/``TypeError``) so the caller can count it and drop it.

Fill identity: the trade id is ``"{coin}:{tid}"``. Fills recorded before ``tid``
existed (the SDK's 2023 cassettes) fall back to ``"{coin}:{hash}:{oid}:{digest}"``,
where ``digest`` hashes the whole fill record: the transaction hash is shared by every
fill of one taker order, and in those recordings even ``startPosition`` repeats across
fills at one price. Records identical in every field within one response get ``#2``,
``#3``… in order of appearance, so re-reading the same history gives the same ids. A fill
seen once with and once without ``tid`` would get two ids; live feeds always carry
``tid``, so only old recordings use the fallback.

REST ``openOrders`` carries no server time, so its ``ts_exchange`` is the local time.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from protocol.account import Liquidity, OrderFilled, PositionReported
from protocol.market import BookLevel, BookSnapshotReceived, TradePrinted
from protocol.orders import OpenOrder, OpenOrdersReported, OrderStatus, RejectReason
from protocol.side import Side
from venues.hyperliquid.errors import FeedParseError, order_status_for, reject_reason_for_status

_NS_PER_MS = 1_000_000
_SIDES = {"B": Side.BUY, "A": Side.SELL}

JsonObject = dict[str, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFillsMessage:
    """One WS ``userFills`` frame; the first after subscribing is a backfill snapshot."""

    user: str
    is_snapshot: bool
    fills: tuple[OrderFilled, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStatusReported:
    """The venue's status for one order (``orderUpdates``, ``historicalOrders``).

    ``venue_status`` keeps the venue's name (``badAloPxRejected``, ``scheduledCancel``);
    ``status`` and ``reject_reason`` are its protocol meaning. ``size`` is what remains.
    """

    cloid: str | None
    venue_order_id: int
    coin: str
    side: Side
    price: Decimal
    size: Decimal
    original_size: Decimal | None
    status: OrderStatus
    venue_status: str
    reject_reason: RejectReason | None
    ts_exchange: int
    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRateLimit:
    """The address-level request budget (``userRateLimit``): cap ≈ 10000 + volume."""

    cumulative_volume: Decimal
    requests_used: int
    requests_cap: int

    @property
    def requests_left(self) -> int:
        return self.requests_cap - self.requests_used


def parse_l2_book(data: object, *, ts_local: int) -> BookSnapshotReceived:
    """An ``l2Book`` snapshot (REST or WS): bids best first, then asks best first."""
    book = _object(data, "l2Book")
    levels = _list(book.get("levels"), "l2Book", "levels")
    if len(levels) != 2:
        raise FeedParseError("l2Book", "levels must be [bids, asks]")
    bids, asks = (
        tuple(_level(item, "l2Book") for item in _list(side, "l2Book", "levels[i]"))
        for side in levels
    )
    return BookSnapshotReceived(
        coin=_str(book, "coin", "l2Book"),
        bids=bids,
        asks=asks,
        ts_exchange=_time_ns(book, "time", "l2Book"),
        ts_local=ts_local,
    )


def parse_bbo(data: object, *, ts_local: int) -> BookSnapshotReceived:
    """A ``bbo`` frame as a top-of-book snapshot: at most one level per side."""
    message = _object(data, "bbo")
    pair = _list(message.get("bbo"), "bbo", "bbo")
    if len(pair) != 2:
        raise FeedParseError("bbo", "bbo must be [bid, ask]")
    bid, ask = ((() if item is None else (_level(item, "bbo"),)) for item in pair)
    return BookSnapshotReceived(
        coin=_str(message, "coin", "bbo"),
        bids=bid,
        asks=ask,
        ts_exchange=_time_ns(message, "time", "bbo"),
        ts_local=ts_local,
    )


def parse_trades(data: object, *, ts_local: int) -> tuple[TradePrinted, ...]:
    """A ``trades`` frame; ``side`` is the aggressor's, the id ``"{coin}:{tid}"``."""
    trades = []
    for item in _list(data, "trades", "data"):
        trade = _object(item, "trades")
        coin = _str(trade, "coin", "trades")
        trades.append(
            TradePrinted(
                coin=coin,
                side=_side(trade, "trades"),
                price=_decimal(trade, "px", "trades"),
                size=_decimal(trade, "sz", "trades"),
                trade_id=f"{coin}:{_int(trade, 'tid', 'trades')}",
                ts_exchange=_time_ns(trade, "time", "trades"),
                ts_local=ts_local,
            )
        )
    return tuple(trades)


def parse_fills(
    data: object, *, ts_local: int, channel: str = "userFills"
) -> tuple[OrderFilled, ...]:
    """A list of fills: REST ``userFills`` / ``userFillsByTime``, or ``userEvents.fills``."""
    fills = []
    fallback_ids: Counter[str] = Counter()
    for item in _list(data, channel, "fills"):
        fill = parse_fill(item, ts_local=ts_local, channel=channel)
        if isinstance(item, dict) and "tid" not in item:
            fallback_ids[fill.trade_id] += 1
            if (occurrence := fallback_ids[fill.trade_id]) > 1:
                fill = replace(fill, trade_id=f"{fill.trade_id}#{occurrence}")
        fills.append(fill)
    return tuple(fills)


def parse_user_fills_message(data: object, *, ts_local: int) -> UserFillsMessage:
    """A WS ``userFills`` frame; ``isSnapshot`` absent means a live (non-snapshot) update."""
    message = _object(data, "userFills")
    is_snapshot = message.get("isSnapshot", False)
    if not isinstance(is_snapshot, bool):
        raise FeedParseError("userFills", "isSnapshot is not a boolean")
    return UserFillsMessage(
        user=_str(message, "user", "userFills"),
        is_snapshot=is_snapshot,
        fills=parse_fills(message.get("fills"), ts_local=ts_local),
    )


def parse_fill(item: object, *, ts_local: int, channel: str = "userFills") -> OrderFilled:
    """One fill; ``crossed`` means taker, ``fee`` keeps its sign (negative = rebate)."""
    fill = _object(item, channel)
    coin = _str(fill, "coin", channel)
    oid = _int(fill, "oid", channel)
    crossed = fill.get("crossed")
    if not isinstance(crossed, bool):
        raise FeedParseError(channel, "crossed is missing or not a boolean")
    return OrderFilled(
        trade_id=_fill_trade_id(fill, coin, oid, channel),
        cloid=_optional_str(fill, "cloid", channel),
        venue_order_id=oid,
        coin=coin,
        side=_side(fill, channel),
        price=_decimal(fill, "px", channel),
        size=_decimal(fill, "sz", channel),
        fee=_decimal(fill, "fee", channel, signed=True),
        liquidity=Liquidity.TAKER if crossed else Liquidity.MAKER,
        ts_exchange=_time_ns(fill, "time", channel),
        ts_local=ts_local,
    )


def _fill_trade_id(fill: JsonObject, coin: str, oid: int, channel: str) -> str:
    if "tid" in fill:
        return f"{coin}:{_int(fill, 'tid', channel)}"
    tx_hash = _str(fill, "hash", channel)
    canonical = json.dumps(fill, sort_keys=True, separators=(",", ":"), default=str).encode()
    return f"{coin}:{tx_hash}:{oid}:{hashlib.sha256(canonical).hexdigest()[:16]}"


def parse_order_updates(
    data: object, *, ts_local: int, channel: str = "orderUpdates"
) -> tuple[OrderStatusReported, ...]:
    """An ``orderUpdates`` frame or a ``historicalOrders`` body: one report per item."""
    reports = []
    for raw in _list(data, channel, "data"):
        item = _object(raw, channel)
        order = _object(item.get("order"), channel)
        venue_status = _str(item, "status", channel)
        original = order.get("origSz")
        reports.append(
            OrderStatusReported(
                cloid=_optional_str(order, "cloid", channel),
                venue_order_id=_int(order, "oid", channel),
                coin=_str(order, "coin", channel),
                side=_side(order, channel),
                price=_decimal(order, "limitPx", channel),
                size=_decimal(order, "sz", channel),
                original_size=None if original is None else _decimal(order, "origSz", channel),
                status=order_status_for(venue_status),
                venue_status=venue_status,
                reject_reason=reject_reason_for_status(venue_status),
                ts_exchange=_time_ns(item, "statusTimestamp", channel),
                ts_local=ts_local,
            )
        )
    return tuple(reports)


def parse_open_orders_by_coin(
    data: object, *, ts_local: int, channel: str = "openOrders"
) -> dict[str, OpenOrdersReported]:
    """REST ``openOrders`` / ``frontendOpenOrders`` grouped into one report per coin."""
    grouped: dict[str, list[OpenOrder]] = {}
    for raw in _list(data, channel, "data"):
        item = _object(raw, channel)
        order = OpenOrder(
            cloid=_optional_str(item, "cloid", channel),
            venue_order_id=_int(item, "oid", channel),
            coin=_str(item, "coin", channel),
            side=_side(item, channel),
            price=_decimal(item, "limitPx", channel),
            size=_decimal(item, "sz", channel),
        )
        grouped.setdefault(order.coin, []).append(order)
    return {
        coin: OpenOrdersReported(
            coin=coin, orders=tuple(orders), ts_exchange=ts_local, ts_local=ts_local
        )
        for coin, orders in grouped.items()
    }


def parse_open_orders(
    data: object, *, coin: str, ts_local: int, channel: str = "openOrders"
) -> OpenOrdersReported:
    """The open orders of one coin (an empty report when it has none)."""
    by_coin = parse_open_orders_by_coin(data, ts_local=ts_local, channel=channel)
    empty = OpenOrdersReported(coin=coin, orders=(), ts_exchange=ts_local, ts_local=ts_local)
    return by_coin.get(coin, empty)


def parse_positions(data: object, *, ts_local: int) -> dict[str, PositionReported]:
    """``clearinghouseState`` → the venue's position per coin (coins with one only)."""
    channel = "clearinghouseState"
    state = _object(data, channel)
    ts_exchange = _time_ns(state, "time", channel) if "time" in state else ts_local
    positions: dict[str, PositionReported] = {}
    for raw in _list(state.get("assetPositions"), channel, "assetPositions"):
        position = _object(_object(raw, channel).get("position"), channel)
        coin = _str(position, "coin", channel)
        entry = position.get("entryPx")
        positions[coin] = PositionReported(
            coin=coin,
            position=_decimal(position, "szi", channel, signed=True),
            average_entry=Decimal(0) if entry is None else _decimal(position, "entryPx", channel),
            ts_exchange=ts_exchange,
            ts_local=ts_local,
        )
    return positions


def parse_position(data: object, *, coin: str, ts_local: int) -> PositionReported:
    """One coin's position; flat (zero size and entry) when the venue lists none."""
    positions = parse_positions(data, ts_local=ts_local)
    flat = PositionReported(
        coin=coin,
        position=Decimal(0),
        average_entry=Decimal(0),
        ts_exchange=ts_local,
        ts_local=ts_local,
    )
    return positions.get(coin, flat)


def parse_user_rate_limit(data: object) -> UserRateLimit:
    """``userRateLimit`` → the address's request budget."""
    limit = _object(data, "userRateLimit")
    return UserRateLimit(
        cumulative_volume=_decimal(limit, "cumVlm", "userRateLimit"),
        requests_used=_int(limit, "nRequestsUsed", "userRateLimit"),
        requests_cap=_int(limit, "nRequestsCap", "userRateLimit"),
    )


def _level(item: object, channel: str) -> BookLevel:
    level = _object(item, channel)
    return BookLevel(
        price=_decimal(level, "px", channel),
        size=_decimal(level, "sz", channel),
        orders=_int(level, "n", channel),
    )


def _object(value: object, channel: str) -> JsonObject:
    if not isinstance(value, dict):
        raise FeedParseError(channel, f"expected an object, got {type(value).__name__}")
    return value


def _list(value: object, channel: str, what: str) -> list[object]:
    if not isinstance(value, list):
        raise FeedParseError(channel, f"{what} is not a list")
    return value


def _str(obj: JsonObject, key: str, channel: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise FeedParseError(channel, f"{key} is missing or not a string")
    return value


def _optional_str(obj: JsonObject, key: str, channel: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise FeedParseError(channel, f"{key} is not a string")
    return value


def _int(obj: JsonObject, key: str, channel: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FeedParseError(channel, f"{key} is missing or not an integer")
    return value


def _time_ns(obj: JsonObject, key: str, channel: str) -> int:
    return _int(obj, key, channel) * _NS_PER_MS


def _decimal(obj: JsonObject, key: str, channel: str, *, signed: bool = False) -> Decimal:
    text = obj.get(key)
    if not isinstance(text, str):
        raise FeedParseError(channel, f"{key} is missing or not a decimal string")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FeedParseError(channel, f"{key} {text!r} is not a decimal") from None
    if not value.is_finite() or (value < 0 and not signed):
        raise FeedParseError(channel, f"{key} {text!r} is out of range")
    return value


def _side(obj: JsonObject, channel: str) -> Side:
    side = _SIDES.get(_str(obj, "side", channel))
    if side is None:
        raise FeedParseError(channel, f"side {obj.get('side')!r} is not 'B' or 'A'")
    return side
