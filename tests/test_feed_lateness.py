"""A feed with a backlog is as stale as a silent one.

Freshness is whether the exchange's time moves on, on the local clock (so a host seconds
out from the exchange quotes normally). A feed whose blocks keep moving the exchange's
time on but each arrive half a minute after they happened passed that test: its books
were forwarded to the quoter, and quotes followed prices 30 s old. A block heard later
than the window's quickest by more than the staleness limit is now dropped as ``late``,
so such a feed goes stale after the limit and recovers when blocks are on time again.
"""

from __future__ import annotations

from makerd.actors.book_feed import BookFeedLogic
from makerd.actors.feed_lateness import FeedLateness
from makerd.protocol.control import TimerFired
from makerd.protocol.market import BookUpdated, FeedMessageDropped, FeedRecovered, FeedStale
from tests.kit import MS, T0, S, of_type
from tests.test_redteam11_clock_feed import block


def blocks(
    f: BookFeedLogic, *, start_s: int, seconds: int, lag_ns: int, lag_growth: float = 0.0
) -> list[object]:
    """Two blocks a second from ``start_s`` (local time, from T0) on a host in step with
    the exchange, each heard ``lag_ns`` after it happened, the lag growing by
    ``lag_growth`` seconds a second (a backlog building: the exchange's time still moves
    on, slower than the clock); a timer every 100 ms."""
    out: list[object] = []
    for tick in range(seconds * 10):
        now_ns = T0 + start_s * S + tick * 100 * MS
        if tick % 5 == 0:
            lag = lag_ns + round(lag_growth * tick * 100 * MS)
            out += f.handle(block(exchange_ns=now_ns - lag, local_ns=now_ns))
        out += f.handle(TimerFired(ts_local=now_ns + 10 * MS))
    return out


def with_a_backlog() -> tuple[BookFeedLogic, list[object]]:
    """A minute on time, then 40 s of a backlog building to 20 s."""
    f = BookFeedLogic(coin="BTC", stale_after_ns=5 * S)
    on_time = blocks(f, start_s=0, seconds=60, lag_ns=50 * MS)
    assert of_type(on_time, FeedStale) == []
    return f, blocks(f, start_s=60, seconds=40, lag_ns=50 * MS, lag_growth=0.5)


def test_a_feed_whose_blocks_fall_behind_goes_stale_and_forwards_none_late() -> None:
    _, backlog = with_a_backlog()

    stale = of_type(backlog, FeedStale)
    assert len(stale) == 1
    # Late past 5 s after 10 s of backlog; stale 5 s after the last block on time.
    assert T0 + 70 * S < stale[0].ts_local <= T0 + 76 * S
    late = [d for d in of_type(backlog, FeedMessageDropped) if d.reason == "late"]
    forwarded = of_type(backlog, BookUpdated)
    assert len(late) == 80 - len(forwarded)
    assert all(book.ts_local - book.ts_exchange <= 5_050 * MS for book in forwarded)


def test_the_feed_recovers_when_its_blocks_are_on_time_again() -> None:
    f, _ = with_a_backlog()

    caught_up = blocks(f, start_s=100, seconds=2, lag_ns=60 * MS)

    assert len(of_type(caught_up, FeedRecovered)) == 1
    assert len(of_type(caught_up, BookUpdated)) == 4


def test_a_lag_that_drifts_up_to_a_second_is_not_late() -> None:
    f = BookFeedLogic(coin="BTC", stale_after_ns=5 * S)
    blocks(f, start_s=0, seconds=30, lag_ns=50 * MS)

    slower = blocks(f, start_s=30, seconds=10, lag_ns=50 * MS, lag_growth=0.1)

    assert of_type(slower, FeedMessageDropped) == []
    assert len(of_type(slower, BookUpdated)) == 20


def test_a_host_clock_stepped_forward_is_learned_as_offset_within_one_window() -> None:
    """After an NTP step, every block looks a minute late until the window forgets the
    quickest block from before the step; from then on it is on time again."""
    lateness = FeedLateness(window_ns=600 * S)
    assert lateness.late_by(ts_local=T0 + 50 * MS, ts_exchange=T0) == 0

    stepped = T0 + 60 * S  # the host's clock now reads a minute more
    assert lateness.late_by(ts_local=stepped + S, ts_exchange=T0 + S) == 60 * S - 50 * MS
    later = stepped + 700 * S
    assert lateness.late_by(ts_local=later, ts_exchange=T0 + 700 * S) == 0


def test_a_host_clock_stepped_back_makes_nothing_late() -> None:
    lateness = FeedLateness(window_ns=600 * S)
    lateness.late_by(ts_local=T0 + 50 * MS, ts_exchange=T0)

    stepped_back = T0 - 60 * S
    assert lateness.late_by(ts_local=stepped_back + S, ts_exchange=T0 + S) == 0
    assert lateness.late_by(ts_local=stepped_back + 2 * S, ts_exchange=T0 + 2 * S) == 0


def test_a_book_printed_before_a_freeze_and_read_after_it_reaches_no_quoter() -> None:
    """After SIGSTOP/SIGCONT the kernel hands over the frames it buffered: one printed
    6.7 s before it is read priced bids above the venue's best ask (post-only refused
    them). The book_feed drops it as late; the quoter never sees it."""
    f = BookFeedLogic(coin="BTC", stale_after_ns=5 * S)
    blocks(f, start_s=0, seconds=30, lag_ns=50 * MS)
    resumed_ns = T0 + 40 * S

    buffered = f.handle(block(exchange_ns=resumed_ns - 6_700 * MS, local_ns=resumed_ns))

    assert of_type(buffered, BookUpdated) == []
    assert [d.reason for d in of_type(buffered, FeedMessageDropped)] == ["late"]
