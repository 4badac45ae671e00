"""Book parsers: an ``l2Book`` or ``bbo`` payload → a checked book snapshot.

Forty levels arrive in every book, several times a second, so this is the hot end of the
validation boundary. A book comes either as decoded JSON (REST, a replay, a WebSocket
message of an unusual shape) or as the typed :class:`WireBook` the market stream decodes
its usual books into; both get the same checks, the same levels and the same refusals.
The checks are the same as everywhere else at the boundary (see ``parse.py``): plain
positive decimals within the length bound, exchange times within the clock-skew bound,
books not crossed, prices within the guard's band. Every refusal is a
:class:`FeedParseError`.

A caller that parses book after book (the market feed, a replay) keeps a
:class:`LevelCache`: most levels repeat an earlier book's exact strings, and a level whose
strings already passed every check is the same immutable :class:`BookLevel` again, with
no decimal parsed and no object built.
"""

from __future__ import annotations

import re
from decimal import Decimal

from makerd.protocol.market import BookLevel, BookSnapshotReceived, DropReason
from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.fields import (
    NS_PER_MS,
    JsonObject,
    as_list,
    as_object,
    read_decimal,
    read_int,
    read_str,
    read_time_ns,
)
from makerd.venues.hyperliquid.limits import OPEN_GUARD, FrameGuard
from makerd.venues.hyperliquid.wire_book import WireBook, WireLevel

_PRICE, _SIZE = DropReason.BAD_PRICE, DropReason.BAD_SIZE
_UNSIGNED_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
"""A plain decimal without a sign: what a book level's price and size must be."""
_plain_unsigned = _UNSIGNED_DECIMAL.fullmatch


class LevelCache:
    """What a feed or a replay already parsed and checked, so that it parses each thing once.

    ``levels`` by their wire strings (px, sz, n); ``wire`` the same for typed levels
    (:class:`WireLevel` is hashable on those strings); ``decimals`` by their string: a
    level whose size changed keeps its price's string, and prices and sizes pass the same
    checks (a positive plain decimal within the length limit), so one table serves both.
    An entry passed the checks of the guard it was parsed with: keep one cache per guard.
    """

    def __init__(self, limit: int = 8192) -> None:
        self.levels: dict[tuple[str, str, int], BookLevel] = {}
        self.wire: dict[WireLevel, BookLevel] = {}
        self.decimals: dict[str, Decimal] = {}
        self._limit = limit

    def trim(self) -> None:
        """Forget everything once a table passes the limit (memory stays bounded)."""
        # Asked on every book: three comparisons, not a generator over the tables.
        limit = self._limit
        if len(self.wire) > limit or len(self.decimals) > limit or len(self.levels) > limit:
            self.levels.clear()
            self.wire.clear()
            self.decimals.clear()


def parse_l2_book(
    data: object,
    *,
    ts_local: int,
    ts_mono: int | None = None,
    guard: FrameGuard = OPEN_GUARD,
    cache: LevelCache | None = None,
) -> BookSnapshotReceived:
    """An ``l2Book`` snapshot (REST or WS): bids best first, then asks best first; heard
    at ``ts_local`` (wall) and ``ts_mono`` (monotonic, None in simulated time).

    ``cache`` (kept by the caller between snapshots) skips re-parsing a level whose exact
    strings already passed every check; most levels repeat from one snapshot to the next.
    """
    if cache is not None:
        cache.trim()
    if type(data) is WireBook:
        coin, ts_exchange, (bids, asks) = _wire_parts(data, ts_local, guard, cache)
    else:
        coin, ts_exchange, (bids, asks) = _json_parts(data, ts_local, guard, cache)
    return _checked_book(
        coin,
        bids=bids,
        asks=asks,
        ts_exchange=ts_exchange,
        ts_local=ts_local,
        ts_mono=ts_mono,
        guard=guard,
        channel="l2Book",
    )


_BookParts = tuple[str, int, tuple[tuple[BookLevel, ...], ...]]
"""A book's coin, exchange time (ns) and sides, each checked on its own."""


def _json_parts(
    data: object, ts_local: int, guard: FrameGuard, cache: LevelCache | None
) -> _BookParts:
    channel = "l2Book"
    book, coin, ts_exchange = _coin_and_time(data, channel, guard, ts_local)
    levels = _two_sides(book, "levels", channel, "[bids, asks]")
    return coin, ts_exchange, tuple(_side_levels(side, guard, cache) for side in levels)


def _coin_and_time(
    data: object, channel: str, guard: FrameGuard, ts_local: int
) -> tuple[JsonObject, str, int]:
    """The decoded object, its coin (one traded here) and its exchange time (ns)."""
    message = as_object(data, channel)
    coin = read_str(message, "coin", channel)
    guard.check_coin(coin, channel)
    ts_exchange = read_time_ns(message, "time", channel, guard=guard, ts_local=ts_local)
    return message, coin, ts_exchange


def _two_sides(message: JsonObject, key: str, channel: str, shape: str) -> list[object]:
    sides = as_list(message.get(key), channel, key)
    if len(sides) != 2:
        raise FeedParseError(channel, f"{key} must be {shape}")
    return sides


def _wire_parts(
    book: WireBook, ts_local: int, guard: FrameGuard, cache: LevelCache | None
) -> _BookParts:
    # The decoder has checked every type already; what the values are is checked here,
    # in the same order and with the same refusals as for a decoded dict.
    guard.check_coin(book.coin, "l2Book")
    ts_exchange = book.time * NS_PER_MS
    guard.check_time(ts_exchange, ts_local, "l2Book")
    known = LevelCache() if cache is None else cache
    return book.coin, ts_exchange, tuple(_wire_side(side, guard, known) for side in book.levels)


def _wire_side(
    side: tuple[WireLevel, ...], guard: FrameGuard, cache: LevelCache
) -> tuple[BookLevel, ...]:
    if len(side) > guard.limits.max_book_levels:
        raise FeedParseError(
            "l2Book", f"{len(side)} levels on one side", DropReason.TOO_MANY_LEVELS
        )
    known = cache.wire
    # A BookLevel is never falsy, so ``or`` only builds the levels not seen before.
    return tuple([known.get(level) or _new_wire_level(level, guard, cache) for level in side])


def _new_wire_level(level: WireLevel, guard: FrameGuard, cache: LevelCache) -> BookLevel:
    # A new level usually keeps a price (or a size) seen before: each string is checked
    # and parsed once. The table only ever holds strings that passed.
    decimals, longest = cache.decimals, guard.limits.max_decimal_chars
    price = decimals.get(level.px) or _positive_plain(level.px, longest, decimals)
    size = decimals.get(level.sz) or _positive_plain(level.sz, longest, decimals)
    if price is None or size is None:
        # Refused: the long way names the problem (and raises).
        return _level({"px": level.px, "sz": level.sz, "n": level.n}, "l2Book", guard)
    book_level = cache.wire[level] = BookLevel(price=price, size=size, orders=level.n)
    return book_level


def _positive_plain(text: str, longest: int, decimals: dict[str, Decimal]) -> Decimal | None:
    """``text`` as a decimal if it is a positive plain one within ``longest`` characters."""
    if len(text) > longest or _plain_unsigned(text) is None:
        return None
    value = Decimal(text)
    if not value:  # unsigned, so positive unless zero (a cheaper test than ``<= 0``)
        return None
    decimals[text] = value
    return value


def parse_bbo(
    data: object, *, ts_local: int, guard: FrameGuard = OPEN_GUARD
) -> BookSnapshotReceived:
    """A ``bbo`` frame as a top-of-book snapshot: at most one level per side."""
    channel = "bbo"
    message, coin, ts_exchange = _coin_and_time(data, channel, guard, ts_local)
    pair = _two_sides(message, "bbo", channel, "[bid, ask]")
    bid, ask = ((() if item is None else (_level(item, channel, guard),)) for item in pair)
    return _checked_book(
        coin,
        bids=bid,
        asks=ask,
        ts_exchange=ts_exchange,
        ts_local=ts_local,
        ts_mono=None,
        guard=guard,
        channel=channel,
    )


def _side_levels(
    side: object, guard: FrameGuard, cache: LevelCache | None = None
) -> tuple[BookLevel, ...]:
    items = as_list(side, "l2Book", "levels[i]")
    if len(items) > guard.limits.max_book_levels:
        raise FeedParseError(
            "l2Book", f"{len(items)} levels on one side", DropReason.TOO_MANY_LEVELS
        )
    if cache is None:
        return tuple(_level(item, "l2Book", guard) for item in items)
    # One loop, no call per level: a replay parses tens of levels per snapshot, most of
    # them seen before, and this loop was the top of a backtest's profile.
    known = cache.levels
    levels: list[BookLevel] = []
    for item in items:
        if type(item) is dict:
            px, sz, n = item.get("px"), item.get("sz"), item.get("n")
            # Exact types: True == 1 and 1.0 == 1, so a looser key would let a bad level
            # borrow a good one's cache entry.
            if type(px) is str and type(sz) is str and type(n) is int:
                key = (px, sz, n)
                level = known.get(key)
                if level is None:
                    level = known[key] = BookLevel(
                        price=_cached_decimal(
                            px, item, "px", reason=_PRICE, guard=guard, cache=cache
                        ),
                        size=_cached_decimal(
                            sz, item, "sz", reason=_SIZE, guard=guard, cache=cache
                        ),
                        orders=n,
                    )
                levels.append(level)
                continue
        levels.append(_level(item, "l2Book", guard))
    return tuple(levels)


def _cached_decimal(
    text: str,
    item: JsonObject,
    key: str,
    *,
    reason: DropReason,
    guard: FrameGuard,
    cache: LevelCache,
) -> Decimal:
    """``item[key]`` (which is ``text``), checked and parsed the first time it is seen."""
    value = cache.decimals.get(text)
    if value is None:
        value = cache.decimals[text] = read_decimal(item, key, "l2Book", reason=reason, guard=guard)
    return value


def _checked_book(
    coin: str,
    *,
    bids: tuple[BookLevel, ...],
    asks: tuple[BookLevel, ...],
    ts_exchange: int,
    ts_local: int,
    ts_mono: int | None,
    guard: FrameGuard,
    channel: str,
) -> BookSnapshotReceived:
    if bids and asks and bids[0].price >= asks[0].price:
        raise FeedParseError(
            channel, f"bid {bids[0].price} >= ask {asks[0].price}", DropReason.CROSSED_BOOK
        )
    guard.check_band(coin, [level.price for level in (*bids, *asks)], ts_local, channel)
    return BookSnapshotReceived(
        coin=coin, bids=bids, asks=asks, ts_exchange=ts_exchange, ts_local=ts_local, ts_mono=ts_mono
    )


def _level(item: object, channel: str, guard: FrameGuard) -> BookLevel:
    # Forty of these in every book: the exchange's own shape is checked in one pass (the
    # same checks as below); anything else takes the long way, which names the problem.
    if type(item) is dict:
        px, sz, n = item.get("px"), item.get("sz"), item.get("n")
        longest = guard.limits.max_decimal_chars
        if (
            type(px) is str
            and type(sz) is str
            and type(n) is int
            and len(px) <= longest
            and len(sz) <= longest
            and _UNSIGNED_DECIMAL.fullmatch(px) is not None
            and _UNSIGNED_DECIMAL.fullmatch(sz) is not None
        ):
            price, size = Decimal(px), Decimal(sz)
            if price > 0 and size > 0:
                return BookLevel(price=price, size=size, orders=n)
    level = as_object(item, channel)
    return BookLevel(
        price=read_decimal(level, "px", channel, reason=_PRICE, guard=guard),
        size=read_decimal(level, "sz", channel, reason=_SIZE, guard=guard),
        orders=read_int(level, "n", channel),
    )
