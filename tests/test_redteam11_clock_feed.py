"""Red team 11: the feed's health when the host's clock and the exchange's disagree.

The book feed judged exchange-time freshness as the gap between the local clock and the
newest block's time. On a host whose clock ran ahead of the exchange's by more than
``feed.stale_after_s`` every book was "stale" the moment the next timer fired, and
every new book "recovered" the feed: quotes were placed and pulled at the book rate (93
placements and 93 cancels in 30 s with the exchange 10 s behind), and with the clock
60 s ahead the stale-feed kill switch latched a second after the start, "no market data
for 60.1s", on a feed that was fine. Freshness is now whether the exchange's time moves
on, measured on the local clock alone, and only a book that moves it on recovers a
stale feed (a socket re-sending an old block once recovered it at every frame). After
the host's clock steps back, the silence is counted from the step: it was counted from
a time the clock took the step's length to reach again, and a feed that died meanwhile
kept its quotes up as long.
"""

from __future__ import annotations

from makerd.actors.book_feed import BookFeedLogic
from makerd.protocol.control import TimerFired
from makerd.protocol.market import (
    BookSnapshotReceived,
    BookUpdated,
    FeedRecovered,
    FeedStale,
)
from tests.kit import MS, T0, S, of_type, snapshot
from tests.test_book_feed_and_watchdog import feed


def block(*, exchange_ns: int, local_ns: int) -> BookSnapshotReceived:
    fresh = snapshot("59999", "60001", ts=exchange_ns)
    return BookSnapshotReceived(
        coin="BTC",
        bids=fresh.bids,
        asks=fresh.asks,
        ts_exchange=exchange_ns,
        ts_local=local_ns,
    )


def events_of_a_live_feed(f: BookFeedLogic, *, host_ahead_ns: int, seconds: int) -> list[object]:
    """Two blocks a second, each heard 50 ms after the exchange stamped it, on a host
    whose clock reads ``host_ahead_ns`` more than the exchange's; a timer every 100 ms."""
    out: list[object] = []
    for tick in range(seconds * 10):
        local_ns = T0 + host_ahead_ns + tick * 100 * MS
        if tick % 5 == 0:
            exchange_ns = T0 + tick * 100 * MS
            out += f.handle(block(exchange_ns=exchange_ns, local_ns=local_ns + 50 * MS))
        out += f.handle(TimerFired(ts_local=local_ns + 60 * MS))
    return out


def test_a_live_feed_on_a_host_sixty_seconds_ahead_of_the_exchange_is_never_stale() -> None:
    out = events_of_a_live_feed(feed(), host_ahead_ns=60 * S, seconds=30)

    assert of_type(out, FeedStale) == []
    assert len(of_type(out, BookUpdated)) == 60


def test_a_live_feed_on_a_host_ten_seconds_behind_the_exchange_is_never_stale() -> None:
    out = events_of_a_live_feed(feed(), host_ahead_ns=-10 * S, seconds=30)

    assert of_type(out, FeedStale) == []


def test_a_feed_that_stops_on_a_skewed_host_is_stale_after_the_limit_by_the_local_clock() -> None:
    f = feed()
    events_of_a_live_feed(f, host_ahead_ns=60 * S, seconds=2)
    last_heard = T0 + 60 * S + 1_500 * MS + 50 * MS

    assert f.handle(TimerFired(ts_local=last_heard + 4 * S)) == []
    stale = of_type(f.handle(TimerFired(ts_local=last_heard + 6 * S)), FeedStale)

    assert stale[0].silent_for_ns == 6 * S


def test_a_socket_re_sending_an_old_block_does_not_recover_a_stale_feed() -> None:
    f = feed()
    f.handle(block(exchange_ns=T0, local_ns=T0))
    assert of_type(f.handle(TimerFired(ts_local=T0 + 6 * S)), FeedStale)

    resent = f.handle(block(exchange_ns=T0, local_ns=T0 + 7 * S))
    later = f.handle(TimerFired(ts_local=T0 + 8 * S))

    assert of_type(resent, FeedRecovered) == []
    assert of_type(later, FeedStale) == []  # still the same stale episode, not a new one
    assert of_type(f.handle(block(exchange_ns=T0 + 9 * S, local_ns=T0 + 9 * S)), FeedRecovered)


def test_a_feed_that_stops_after_the_host_clock_steps_back_is_stale_after_the_limit() -> None:
    f = feed()
    f.handle(block(exchange_ns=T0, local_ns=T0 + 50 * MS))
    stepped_back = T0 - 60 * S  # NTP steps the host's clock a minute back; the feed dies

    assert f.handle(TimerFired(ts_local=stepped_back)) == []
    stale = f.handle(TimerFired(ts_local=stepped_back + 6 * S))

    assert of_type(stale, FeedStale), "quotes stayed up on a dead feed for the step's length"
