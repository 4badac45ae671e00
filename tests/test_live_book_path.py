"""The live feed checks each book on the thread that read it and hands a good one straight
to the quoter (``BookUpdated``); the book_feed, sent the same book marked ``checked``,
only keeps the feed's health. No book reaches the quoter twice, and none unchecked."""

from __future__ import annotations

from makerd.actors.book_feed import BookFeedLogic
from makerd.protocol.control import TimerFired
from makerd.protocol.market import (
    BookSnapshotReceived,
    BookUpdated,
    FeedMessageDropped,
    FeedRecovered,
    FeedStale,
)
from tests.feed_kit import Feed
from tests.test_book_decode import ASKS, BIDS, T0, book_message

S = 1_000_000_000


def test_a_good_book_goes_to_the_quoter_from_the_feed_and_the_book_feed_adds_nothing() -> None:
    feed, book_feed = Feed(), BookFeedLogic(coin="BTC", stale_after_ns=5 * S)

    updated, snapshot = feed.send(book_message(BIDS, ASKS), T0)
    out = book_feed.handle(snapshot)

    assert isinstance(updated, BookUpdated)
    assert (updated.ts_local, updated.bids[0].price) == (T0, snapshot.bids[0].price)  # type: ignore[attr-defined]
    assert isinstance(snapshot, BookSnapshotReceived)
    assert snapshot.checked
    assert out == []
    assert book_feed.books_accepted == 1


def test_a_book_with_its_asks_out_of_order_reaches_neither_the_quoter_nor_the_book_feed() -> None:
    feed = Feed()

    events = feed.send(book_message(BIDS, [ASKS[1], ASKS[0]]), T0)

    assert [type(event) for event in events] == [FeedMessageDropped]
    assert events[0].reason == "asks_not_ascending"  # type: ignore[attr-defined]


def test_a_book_older_than_one_already_passed_on_is_refused_as_out_of_order() -> None:
    feed = Feed()
    feed.send(book_message(BIDS, ASKS, time=T0 // 1_000_000 + 500), T0)

    events = feed.send(book_message(BIDS, ASKS), T0 + S)

    assert [type(event) for event in events] == [FeedMessageDropped]
    assert events[0].reason == "out_of_order"  # type: ignore[attr-defined]


def test_a_checked_book_after_a_silence_recovers_the_feed_without_a_second_book() -> None:
    feed, book_feed = Feed(), BookFeedLogic(coin="BTC", stale_after_ns=1 * S)
    _, first = feed.send(book_message(BIDS, ASKS), T0)
    book_feed.handle(first)
    stale = book_feed.handle(TimerFired(ts_local=T0 + 3 * S))
    later = book_message(BIDS, ASKS, time=(T0 + 3 * S) // 1_000_000)

    updated, snapshot = feed.send(later, T0 + 3 * S)
    out = book_feed.handle(snapshot)

    assert [type(event) for event in stale] == [FeedStale]
    assert isinstance(updated, BookUpdated)
    assert [type(event) for event in out] == [FeedRecovered]
    assert not book_feed.stale
