"""The market-data boundary: every malformed message is refused with a named reason.

Messages go through the same entry point the WebSocket uses
(:meth:`ReconnectingSocket.handle_message`), so decoding, the channel check, parsing
and the FrameGuard's checks are all exercised; the real frames are the recorded BTC
feed, read in place from ../shared/fixtures beside the checkout (never copied into the
project).
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from makerd.actors.book_feed import BookFeedLogic
from makerd.protocol.market import (
    BookSnapshotReceived,
    BookUpdated,
    FeedMessageDropped,
    TradePrinted,
    TradesPrinted,
)
from tests.feed_kit import FEED_LIMITS, FEED_LISTED, Feed, needs_recording, recorded_frames

LIMITS = FEED_LIMITS
LISTED = FEED_LISTED


def drops(events: list[object]) -> list[str]:
    return [event.reason for event in events if isinstance(event, FeedMessageDropped)]


def assert_sane(events: list[object], *, mid: Decimal | None, ts_local: int) -> None:
    """What the boundary promises of every message it lets through."""
    band = LIMITS.price_band_pct / 100
    skew_ns = int(LIMITS.max_clock_skew_s * 1e9)
    for event in events:
        if isinstance(event, FeedMessageDropped):
            assert event.stream == "market"
            continue
        assert isinstance(event, BookSnapshotReceived | TradesPrinted), event
        assert event.coin == "BTC"
        if isinstance(event, BookSnapshotReceived):
            assert 0 < event.ts_exchange <= ts_local + skew_ns
            levels = (*event.bids, *event.asks)
            pairs = [(level.price, level.size) for level in levels]
            if event.bids and event.asks:
                assert event.bids[0].price < event.asks[0].price
        else:
            assert all(t.coin == "BTC" for t in event.trades)
            assert all(0 < t.ts_exchange <= ts_local + skew_ns for t in event.trades)
            pairs = [(t.price, t.size) for t in event.trades]
        for price, size in pairs:
            assert price.is_finite()
            assert price > 0
            assert size.is_finite()
            assert size > 0
            if mid is not None:
                assert mid * (1 - band) <= price <= mid * (1 + band)


@needs_recording
def test_every_recorded_frame_passes_the_boundary_and_nothing_is_dropped() -> None:
    feed = Feed()

    for ts_local, raw in recorded_frames():
        feed.send(raw, ts_local)

    assert drops(feed.events) == []
    assert sum(isinstance(e, BookSnapshotReceived) for e in feed.events) == 46
    assert sum(isinstance(e, TradesPrinted) for e in feed.events) > 0


def _first(channel: str) -> tuple[int, dict[str, Any]]:
    for ts_local, raw in recorded_frames():
        frame = json.loads(raw)
        if frame["channel"] == channel:
            return ts_local, frame
    raise AssertionError(f"the recording has no {channel} frame")


def _book(mutate: Any) -> dict[str, Any]:
    _, frame = _first("l2Book")
    frame = copy.deepcopy(frame)
    mutate(frame["data"])
    return frame


def _trade(mutate: Any) -> dict[str, Any]:
    _, frame = _first("trades")
    frame = copy.deepcopy(frame)
    mutate(frame["data"][0])
    return frame


def _set(key: str, value: object) -> Any:
    return lambda obj: obj.__setitem__(key, value)


def _top_bid(key: str, value: object) -> Any:
    return lambda book: book["levels"][0][0].__setitem__(key, value)


def _scale_prices(factor: int) -> Any:
    def scale(book: dict[str, Any]) -> None:
        for side in book["levels"]:
            for level in side:
                level["px"] = str(Decimal(level["px"]) * factor)

    return scale


DAY_MS = 86_400_000
# Messages made from a recorded frame are built when their test runs (a callable here):
# without the recording beside the checkout, those tests skip instead of failing collection.
MALFORMED: list[tuple[str, object, str]] = [
    ("binary", b"\xff\xfe\x00garbage", "not_utf8"),
    ("deep_json", "[" * 100_000 + "]" * 100_000, "too_deep"),
    (
        "moderately_deep_json",
        json.dumps({"channel": "l2Book", "data": [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}),
        "too_deep",
    ),
    ("not_json", "{'channel': l2Book", "not_json"),
    ("nan_literal", '{"channel": "trades", "data": NaN}', "not_json"),
    ("no_channel", '{"data": {}}', "missing_field"),
    ("unknown_channel", '{"channel": "candle", "data": {}}', "unknown_channel"),
    ("wrong_coin", lambda: _book(_set("coin", "ETH")), "wrong_coin"),
    ("unknown_coin", lambda: _book(_set("coin", "NOPE")), "unknown_coin"),
    ("wrong_coin_trade", lambda: _trade(_set("coin", "SOL")), "wrong_coin"),
    (
        "future_time",
        lambda: _book(lambda b: b.__setitem__("time", b["time"] + DAY_MS)),
        "future_time",
    ),
    ("huge_time", lambda: _book(_set("time", 10**30)), "future_time"),
    ("future_trade", lambda: _trade(_set("time", 10**30)), "future_time"),
    ("zero_time", lambda: _book(_set("time", 0)), "bad_time"),
    ("crossed_book", lambda: _book(_top_bid("px", "105100.0")), "crossed_book"),
    ("zero_price", lambda: _book(_top_bid("px", "0")), "bad_price"),
    ("negative_price", lambda: _trade(_set("px", "-1")), "bad_price"),
    ("exponent_price", lambda: _book(_top_bid("px", "1.05e5")), "bad_price"),
    ("zero_size", lambda: _book(_top_bid("sz", "0.0")), "bad_size"),
    ("zero_trade_size", lambda: _trade(_set("sz", "0")), "bad_size"),
    ("huge_price", lambda: _book(_top_bid("px", "9" * 400)), "bad_price"),
    ("long_price", lambda: _trade(_set("px", "1" * 1_000_000)), "bad_price"),
    ("numeric_price", lambda: _trade(_set("px", 105056.0)), "bad_price"),
    ("missing_levels", lambda: _book(lambda b: b.pop("levels")), "missing_field"),
    ("missing_trade_px", lambda: _trade(lambda t: t.pop("px")), "missing_field"),
    ("bad_side", lambda: _trade(_set("side", "X")), "bad_field"),
    (
        "too_many_levels",
        lambda: _book(lambda b: b["levels"][1].extend(b["levels"][1][-1:] * 200)),
        "too_many_levels",
    ),
]


@needs_recording
@pytest.mark.parametrize(
    ("message", "reason"),
    [(message, reason) for _, message, reason in MALFORMED],
    ids=[kind for kind, _, _ in MALFORMED],
)
def test_a_malformed_message_is_dropped_with_its_named_reason(message: object, reason: str) -> None:
    ts_local, _ = _first("l2Book")
    if callable(message):
        message = message()
    raw = message if isinstance(message, str | bytes) else json.dumps(message)
    feed = Feed()

    events = feed.send(raw, ts_local)

    assert drops(events) == [reason]
    assert len(events) == 1


@needs_recording
def test_a_price_outside_the_band_around_the_last_good_mid_is_refused() -> None:
    ts_local, real = _first("l2Book")
    feed = Feed()
    feed.send(json.dumps(real), ts_local)
    doubled = _book(_scale_prices(2))
    far_trade = _trade(_set("px", "52000.0"))

    events = feed.send(json.dumps(doubled), ts_local + 1) + feed.send(
        json.dumps(far_trade), ts_local + 2
    )

    assert drops(events) == ["out_of_band", "out_of_band"]
    assert feed.mid(ts_local + 2) == Decimal("105055.5")


@needs_recording
def test_a_run_of_unsorted_books_cannot_walk_the_band_away_from_the_market() -> None:
    ts_local, real = _first("l2Book")
    feed = Feed()
    feed.send(json.dumps(real), ts_local)
    mid = Decimal("105055.5")
    for step in range(1, 6):
        # Each book's first bid and ask sit 8 % above the last one's: inside the 10 % band, but
        # the asks are out of order (the book_feed refuses such a book).
        lifted = mid * Decimal("1.08") ** step
        unsorted = _book(_first_levels(bid=lifted, ask=lifted + 1))
        feed.send(json.dumps(unsorted), ts_local + step)

    events = feed.send(json.dumps(real), ts_local + 10)

    assert drops(events) == [], "the real book was refused: the band had walked away"
    assert feed.mid(ts_local + 10) == mid


def _first_levels(*, bid: Decimal, ask: Decimal) -> Any:
    def lift(book: dict[str, Any]) -> None:
        book["levels"][0][0]["px"] = str(bid.quantize(Decimal(1)))
        book["levels"][1][0]["px"] = str(ask.quantize(Decimal(1)))

    return lift


def _scale_by(factor: Decimal) -> Any:
    def scale(book: dict[str, Any]) -> None:
        for side in book["levels"]:
            for level in side:
                level["px"] = str((Decimal(level["px"]) * factor).quantize(Decimal(1)))

    return scale


@needs_recording
def test_the_band_follows_a_market_that_walks_twice_its_width_book_by_book() -> None:
    # The anchor moves only when it is due (a tenth of the band away, or old): it must
    # still follow a market that walks, and still refuse what is far from where it is now.
    ts_local, _ = _first("l2Book")
    feed = Feed()
    step, tenth_of_a_second = Decimal("1.005"), 100_000_000
    for n in range(41):  # 0.5 % a book, 22 % in all
        sent = feed.send(json.dumps(_book(_scale_by(step**n))), ts_local + n * tenth_of_a_second)
        assert drops(sent) == [], f"book {n} was refused: the band did not follow the market"
    now = ts_local + 40 * tenth_of_a_second
    market_mid = Decimal("105055.5") * step**40
    anchored = feed.mid(now)

    assert anchored is not None
    assert abs(anchored - market_mid) <= market_mid / 100
    far = _book(_scale_by(step**40 * Decimal("1.11")))
    assert drops(feed.send(json.dumps(far), now + 1)) == ["out_of_band"]


@needs_recording
def test_the_band_reanchors_on_a_well_formed_book_after_a_long_silence() -> None:
    ts_local, real = _first("l2Book")
    feed = Feed()
    feed.send(json.dumps(real), ts_local)
    moved = _book(_scale_prices(2))
    later = ts_local + int(LIMITS.band_reanchor_s * 1e9) + 1

    events = feed.send(json.dumps(moved), later)

    assert drops(events) == []
    assert feed.mid(later) == Decimal("210111.0")


@needs_recording
def test_a_frame_a_day_ahead_no_longer_makes_every_later_real_book_out_of_order() -> None:
    frames = recorded_frames()
    feed = Feed()
    book_feed = BookFeedLogic(coin="BTC", stale_after_ns=5_000_000_000)
    poison = _book(lambda b: b.__setitem__("time", b["time"] + DAY_MS))
    first_ts, _ = frames[0]

    feed.send(json.dumps(poison), first_ts)
    for ts_local, raw in frames:
        feed.send(raw, ts_local)
    out = [reply for event in feed.events for reply in book_feed.handle(event)]

    assert sum(isinstance(event, BookUpdated) for event in out) == 46
    assert drops(feed.events) == ["future_time"]
    assert drops(out) == []


def test_the_book_feed_drops_a_book_and_a_trade_for_another_coin() -> None:
    book_feed = BookFeedLogic(coin="BTC", stale_after_ns=5_000_000_000)
    from makerd.protocol.market import BookLevel
    from makerd.protocol.side import Side

    eth_book = BookSnapshotReceived(
        coin="ETH",
        bids=(BookLevel(price=Decimal(3000), size=Decimal(1)),),
        asks=(BookLevel(price=Decimal(3001), size=Decimal(1)),),
        ts_exchange=1,
        ts_local=1,
    )
    eth_trade = TradePrinted(
        coin="ETH",
        side=Side.BUY,
        price=Decimal(3000),
        size=Decimal(1),
        trade_id="ETH:1",
        ts_exchange=10**30,
        ts_local=1,
    )

    printed = TradesPrinted(coin="ETH", trades=(eth_trade,), ts_local=1)
    out = book_feed.handle(eth_book) + book_feed.handle(printed)

    assert drops(out) == ["wrong_coin", "wrong_coin"]
    assert not any(isinstance(event, BookUpdated) for event in out)
    assert book_feed.wrong_coin_dropped == 2
