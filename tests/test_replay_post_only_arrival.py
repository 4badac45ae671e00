"""A replayed post-only order is judged against the book the exchange held when the order
arrived (its sending time + the order entry latency, on the exchange's clock), not the
book the recorder had received by then, which is older by the feed latency.

Hyperliquid checks an ALO order against its own book when the order reaches it: it
refuses one that would cross ("Post only order would have immediately matched"), whatever
book the sender had seen. A recorder receives each book hundreds of ms after its
exchange time (the real excerpt: 474 ms median, 774 ms at most), so at the arrival the
exchange usually holds a book the recording has not delivered yet. The engine used to
judge by the received book: it accepted bids the exchange would have refused (and filled
them as maker when the next book showed them crossed), and refused bids the exchange
would have taken. Hand-written recordings, each with a 400 ms feed latency.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.daemon.replay import instrument_from_steps
from makerd.protocol import OrderFilled
from makerd.protocol.orders import OrderAccepted, OrderRejected
from makerd.protocol.rejections import RejectReason
from makerd.venues.replay.basket import ReplayBasket
from makerd.venues.replay.venue import ReplayVenue
from tests.replay_kit import MS, T0, l2_book, post_only_bid, write_recorder_file
from tests.test_redteam5_backtest_fills import basket, one_coin

BTC = instrument_from_steps("BTC", tick=Decimal(1), lot=Decimal("0.00001"))
T0_MS = T0 // MS
FEED_MS = 400
SENT_MS = 100
"""The bid is sent 100 ms into the recording; it reaches the exchange 30 ms later."""


def book(exchange_ms: int, bid: str, ask: str) -> tuple[int, object]:
    """A book of exchange time T0 + ``exchange_ms``, received ``FEED_MS`` later."""
    return T0 + (exchange_ms + FEED_MS) * MS, l2_book(T0_MS + exchange_ms, bid, ask, size="0.01")


def answers_to_a_bid_at_101(venue: ReplayVenue | ReplayBasket) -> list[object]:
    """What a post-only bid of 0.2 at 101, sent at ``SENT_MS``, brings in 2 s."""
    sent = T0 + SENT_MS * MS
    venue.advance(sent)
    venue.submit(post_only_bid("101", "0.2", at=sent), sent)
    delivered: list[object] = []
    for ms in range(SENT_MS + 10, 2000, 10):
        delivered += venue.advance(T0 + ms * MS)
    return [e for e in delivered if isinstance(e, OrderAccepted | OrderRejected | OrderFilled)]


@pytest.mark.parametrize("venue", [one_coin, basket])
def test_a_bid_crossing_the_book_the_exchange_held_at_arrival_is_refused(
    tmp_path: Path, venue: Callable[[Path], ReplayVenue | ReplayBasket]
) -> None:
    path = write_recorder_file(
        tmp_path / "BTC_20250126_14.gz",
        [
            book(-FEED_MS, "100", "102"),  # the book makerd sees when it sends the bid at 101
            book(SENT_MS, "99", "101"),  # the exchange's at arrival: the ask came down to 101
            book(600, "99", "101"),
        ],
    )

    answers = answers_to_a_bid_at_101(venue(path))

    # Judged by the received book (100@102), the bid was accepted and filled as maker
    # when the third book, received 1 s in, showed the ask at its price.
    assert [type(answer).__name__ for answer in answers] == ["OrderRejected"]
    refused = answers[0]
    assert isinstance(refused, OrderRejected)
    assert refused.reason is RejectReason.POST_ONLY_WOULD_CROSS
    assert refused.message == "Post only order would have immediately matched, bbo was 99@101."
    assert refused.ts_exchange == T0 + (SENT_MS + 30) * MS


@pytest.mark.parametrize("venue", [one_coin, basket])
def test_a_bid_the_exchange_held_book_leaves_uncrossed_rests_and_takes_nothing(
    tmp_path: Path, venue: Callable[[Path], ReplayVenue | ReplayBasket]
) -> None:
    path = write_recorder_file(
        tmp_path / "BTC_20250126_14.gz",
        [
            book(-FEED_MS, "100", "102"),  # makerd's book when it sends the bid at 101
            book(-FEED_MS + 120, "100", "101"),  # received 20 ms after the sending: crossed
            book(SENT_MS + 10, "100", "102"),  # the exchange's at arrival: the ask is back
            book(900, "101", "102"),
        ],
    )

    answers = answers_to_a_bid_at_101(venue(path))

    # Judged by the received book (100@101), the bid was refused.
    assert [type(answer).__name__ for answer in answers] == ["OrderAccepted"]
