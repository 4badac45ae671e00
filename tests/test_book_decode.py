"""The fast book path gives exactly the book the checked generic path gives, or refuses it.

The market feed decodes the usual ``l2Book`` push typed and reuses the levels it already
checked (the level cache). Every message here goes in through the socket's entry point
(:meth:`ReconnectingSocket.handle_message`) of a real :class:`MarketFeed`, so decoding,
the cache and the guard's checks are all exercised together.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from makerd.actors.book_feed import BookFeedLogic
from makerd.protocol.market import (
    BookLevel,
    BookSnapshotReceived,
    BookUpdated,
    DropReason,
    FeedMessageDropped,
)
from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.frames import decode_frame
from makerd.venues.hyperliquid.parse import LevelCache, parse_l2_book
from makerd.venues.hyperliquid.wire_book import WireBook
from tests.feed_kit import FEED_LIMITS as LIMITS
from tests.feed_kit import Feed as RecordedFeed
from tests.feed_kit import needs_recording, recorded_frames

T0 = 1_737_918_843_893_903_000


def book_message(bids: list[tuple[str, str]], asks: list[tuple[str, str]], **extra: Any) -> str:
    """An ``l2Book`` push as the exchange writes it, one order behind each level."""

    def side(levels: list[tuple[str, str]]) -> list[dict[str, object]]:
        return [{"px": px, "sz": sz, "n": 1} for px, sz in levels]

    data = {"coin": "BTC", "time": T0 // 1_000_000, "levels": [side(bids), side(asks)], **extra}
    return json.dumps({"channel": "l2Book", "data": data}, separators=(",", ":"))


BIDS = [("105055.0", "3.03622"), ("105054.0", "0.1428")]
ASKS = [("105056.0", "0.5"), ("105057.0", "1.25")]


class Feed(RecordedFeed):
    """The boundary tests' feed, one event a message."""

    def send_one(self, raw: str) -> object:
        (event,) = self.send(raw, T0)
        return event


def prices_and_sizes(book: object) -> list[list[tuple[Decimal, Decimal, int]]]:
    assert isinstance(book, BookSnapshotReceived), book
    return [[(lv.price, lv.size, lv.orders) for lv in side] for side in (book.bids, book.asks)]


def dropped(event: object) -> str:
    assert isinstance(event, FeedMessageDropped), event
    return event.reason


@needs_recording
def test_every_recorded_book_decoded_typed_equals_the_generic_parse_of_its_json() -> None:
    books = [(ns, raw) for ns, raw in recorded_frames() if '"channel":"l2Book"' in raw]
    cache = LevelCache()

    for ts_local, raw in books:
        typed = decode_frame(raw, max_depth=LIMITS.max_json_depth).data
        fast = parse_l2_book(typed, ts_local=ts_local, cache=cache)
        generic = parse_l2_book(json.loads(raw)["data"], ts_local=ts_local)

        assert isinstance(typed, WireBook)
        assert fast == generic
    assert len(books) == 46


def test_a_level_whose_size_changed_carries_its_new_size_never_the_cached_one() -> None:
    feed = Feed()
    feed.send_one(book_message(BIDS, ASKS))

    book = feed.send_one(book_message([("105055.0", "2.5"), BIDS[1]], ASKS))

    assert prices_and_sizes(book)[0] == [
        (Decimal("105055.0"), Decimal("2.5"), 1),
        (Decimal("105054.0"), Decimal("0.1428"), 1),
    ]


@pytest.mark.parametrize(
    ("bad_level", "reason"),
    [
        (("105055.0", "0"), "bad_size"),
        (("105055.0", "-3.03622"), "bad_size"),
        (("105055.0", "3.0e2"), "bad_size"),
        (("-105055.0", "3.03622"), "bad_price"),
        (("105055.0", "NaN"), "bad_size"),
        (("105055.0", " 3.03622"), "bad_size"),
        (("105056.5", "3.03622"), "crossed_book"),
    ],
)
def test_a_bad_top_level_is_refused_after_good_books_with_the_same_strings_elsewhere(
    bad_level: tuple[str, str], reason: str
) -> None:
    feed = Feed()
    feed.send_one(book_message(BIDS, ASKS))

    event = feed.send_one(book_message([bad_level, BIDS[1]], ASKS))

    assert dropped(event) == reason


def test_a_refused_level_is_refused_again_the_cache_remembers_only_good_ones() -> None:
    feed = Feed()
    bad = book_message([("105055.0", "0.0"), BIDS[1]], ASKS)

    first, second = feed.send_one(bad), feed.send_one(bad)

    assert [dropped(first), dropped(second)] == ["bad_size", "bad_size"]


def test_unsorted_bids_pass_the_parser_unchanged_for_the_book_feed_to_refuse() -> None:
    # The parser keeps the exchange's order; the book_feed's order check refuses it.
    feed = Feed()

    book = feed.send_one(book_message([BIDS[1], BIDS[0]], ASKS))

    assert [level[0] for level in prices_and_sizes(book)[0]] == [
        Decimal("105054.0"),
        Decimal("105055.0"),
    ]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (book_message(BIDS, ASKS).replace('"n":1', '"n":true', 1), "bad_field"),
        (book_message(BIDS, ASKS).replace('"n":1', '"n":1.0', 1), "bad_field"),
        (book_message(BIDS, ASKS).replace('"px":"105055.0"', '"px":105055.0'), "bad_price"),
        (
            book_message(BIDS, [*ASKS, ("105058.0", "1")], more=[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]),
            "too_deep",
        ),
    ],
    ids=["bool_orders", "float_orders", "numeric_price", "deep_extra_field"],
)
def test_a_book_of_another_shape_takes_the_generic_path_and_its_named_refusal(
    message: str, reason: str
) -> None:
    feed = Feed()
    feed.send_one(book_message(BIDS, ASKS))

    assert dropped(feed.send_one(message)) == reason


def test_a_book_with_a_field_the_exchange_does_not_send_is_still_the_same_book() -> None:
    feed = Feed()
    usual = feed.send_one(book_message(BIDS, ASKS))

    unusual = feed.send_one(book_message(BIDS, ASKS, spread="1.0"))

    assert prices_and_sizes(unusual) == prices_and_sizes(usual)


def test_the_level_cache_stays_bounded_however_many_distinct_levels_arrive() -> None:
    cache = LevelCache(limit=100)

    for i in range(1_000):
        raw = book_message([("105055.0", f"{i + 1}.5")], [("105056.0", f"{i + 1}.25")])
        data = decode_frame(raw, max_depth=LIMITS.max_json_depth).data
        parse_l2_book(data, ts_local=T0, cache=cache)

        assert len(cache.wire) <= 100 + 2  # trimmed before each book, which adds two


def levels(*pairs: tuple[str, str]) -> tuple[BookLevel, ...]:
    return tuple(BookLevel(price=Decimal(px), size=Decimal(sz)) for px, sz in pairs)


GOOD_BIDS = levels(("100", "1"), ("99", "2"), ("98", "3"))
GOOD_ASKS = levels(("101", "1"), ("102", "2"), ("103", "3"))


@pytest.mark.parametrize(
    ("bids", "asks", "problem"),
    [
        ((), GOOD_ASKS, "empty_side"),
        (levels(("98", "1"), ("99", "1")), GOOD_ASKS, "bids_not_descending"),
        (levels(("100", "1"), ("100", "1")), GOOD_ASKS, "bids_not_descending"),
        (GOOD_BIDS, levels(("101", "1"), ("103", "1"), ("102", "1")), "asks_not_ascending"),
        (GOOD_BIDS, levels(("100", "1"), ("102", "1")), "crossed"),
        (levels(("100", "1"), ("0", "1")), GOOD_ASKS, "non_positive_level"),
        (levels(("100", "1"), ("-1", "1")), GOOD_ASKS, "non_positive_level"),
        (GOOD_BIDS, levels(("101", "1"), ("102", "0")), "non_positive_level"),
        (GOOD_BIDS, levels(("101", "1"), ("102", "-2")), "non_positive_level"),
    ],
)
def test_the_book_feed_refuses_a_book_out_of_order_crossed_or_not_positive(
    bids: tuple[BookLevel, ...], asks: tuple[BookLevel, ...], problem: str
) -> None:
    book_feed = BookFeedLogic(coin="BTC", stale_after_ns=10**9)
    snapshot = BookSnapshotReceived(coin="BTC", bids=bids, asks=asks, ts_exchange=T0, ts_local=T0)

    (event,) = book_feed.handle(snapshot)

    assert dropped(event) == problem


def test_the_book_feed_passes_a_good_book_on_unchanged() -> None:
    book_feed = BookFeedLogic(coin="BTC", stale_after_ns=10**9)
    snapshot = BookSnapshotReceived(
        coin="BTC", bids=GOOD_BIDS, asks=GOOD_ASKS, ts_exchange=T0, ts_local=T0
    )

    (event,) = book_feed.handle(snapshot)

    assert isinstance(event, BookUpdated)
    assert (event.bids, event.asks) == (GOOD_BIDS, GOOD_ASKS)


DECIMAL_TEXT = st.one_of(
    st.sampled_from(["105055.0", "105054.0", "0.1428", "3.03622", "105056.0", "1.25", "0.5"]),
    st.sampled_from(["0", "0.0", "-1", "1e5", " 1", "1_0", "NaN", "Infinity", ".5", "5.", "+1"]),
    st.sampled_from(["\u0661", "1" * 33, "", "1.2.3", "9" * 32]),
    st.decimals(min_value=0, max_value=10**6, places=5, allow_nan=False).map(str),
)
ORDERS = st.one_of(st.integers(-2, 60), st.booleans(), st.just(1.0), st.just("1"))
LEVEL = st.fixed_dictionaries({"px": DECIMAL_TEXT, "sz": DECIMAL_TEXT, "n": ORDERS})
SHARED_CACHE = LevelCache()


def outcome(parse: Any) -> object:
    try:
        return parse()
    except FeedParseError as error:
        return error.reason


@settings(max_examples=400, deadline=None)
@given(bids=st.lists(LEVEL, max_size=4), asks=st.lists(LEVEL, max_size=4))
def test_the_typed_path_and_its_cache_agree_with_the_generic_parse_on_any_level(
    bids: list[dict[str, object]], asks: list[dict[str, object]]
) -> None:
    data = {"coin": "BTC", "time": T0 // 1_000_000, "levels": [bids, asks]}
    raw = json.dumps({"channel": "l2Book", "data": data})
    decoded = decode_frame(raw, max_depth=LIMITS.max_json_depth).data

    fast = outcome(lambda: parse_l2_book(decoded, ts_local=T0, cache=SHARED_CACHE))
    generic = outcome(lambda: parse_l2_book(json.loads(raw)["data"], ts_local=T0))

    assert fast == generic


@pytest.mark.parametrize("depth", [LIMITS.max_json_depth, LIMITS.max_json_depth + 1])
def test_a_frame_nested_to_the_limit_is_decoded_and_one_level_deeper_is_too_deep(
    depth: int,
) -> None:
    # The frame object is the first level; "data" nests the remaining ones.
    nested = "[" * (depth - 1) + "]" * (depth - 1)
    raw = '{"channel": "trades", "data": ' + nested + "}"

    frame = decode_frame(raw, max_depth=LIMITS.max_json_depth)

    expected = None if depth <= LIMITS.max_json_depth else DropReason.TOO_DEEP
    assert frame.dropped == expected
