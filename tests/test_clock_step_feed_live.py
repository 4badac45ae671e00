"""The live feed through a step of the host's wall clock, against the local venue.

The real adapter reads the local venue's books and trades on a host clock that NTP steps
60 s forward mid-run; the book_feed takes them with the ticker's timers. Before the feed
stamped the monotonic time each message was heard, every book after the step was
dropped as 60 s late and the feed went stale on a live market (a minute later, the
stale-feed kill switch latched).
"""

from __future__ import annotations

import contextlib
import time

from makerd.actors.book_feed import BookFeedLogic
from makerd.protocol.control import TimerFired
from makerd.protocol.market import (
    BookSnapshotReceived,
    BookUpdated,
    FeedMessageDropped,
    FeedStale,
    TradesPrinted,
)
from tests import test_hl_gateway
from tests.test_hl_modify_leg_race import HostClock, _adapter

NS_PER_S = 1_000_000_000
venue_url = test_hl_gateway.venue_url


def test_the_live_feed_keeps_every_book_through_a_forward_step_of_the_host_clock(
    venue_url: str,
) -> None:
    host_clock = HostClock()
    with contextlib.contextmanager(_adapter)(venue_url, host_clock) as (_, heard):
        stepped_at = 0
        for tick in range(60):  # six seconds, a timer every 100 ms
            if tick == 20:
                host_clock.step_ns = 60 * NS_PER_S
                stepped_at = heard.count()
            heard(TimerFired(ts_local=host_clock.now_ns(), ts_mono=time.monotonic_ns()))
            time.sleep(0.1)

    book_feed = BookFeedLogic(coin="BTC", stale_after_ns=5 * NS_PER_S)
    market = (BookSnapshotReceived, TradesPrinted, TimerFired)
    events = [e for e in heard.events() if isinstance(e, market)]
    after_step = heard.events()[stepped_at:]
    out = [o for event in events for o in book_feed.handle(event)]
    books_after_step = [e for e in after_step if isinstance(e, BookSnapshotReceived)]
    assert len(books_after_step) > 10, "the local venue kept sending books"
    assert [o for o in out if isinstance(o, (FeedStale, FeedMessageDropped))] == []
    books = [e for e in events if isinstance(e, BookSnapshotReceived)]
    assert len([o for o in out if isinstance(o, BookUpdated)]) == len(books)
