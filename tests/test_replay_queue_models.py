"""The queue models, fill by fill, on hand-written books and trades.

One bid of 0.5 rests at 60000 behind 4 displayed. Others join behind us (8 shown), then
4 are cancelled (4 shown), then sells print at our price. ``risk_averse`` assumes every
cancel was behind us; ``power_prob`` splits it by the sizes ahead and behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from makerd.config.model import PaperConfig, QueueModel
from makerd.protocol import (
    BookLevel,
    BookSnapshotReceived,
    Instrument,
    OrderFilled,
    Side,
    TradePrinted,
)
from makerd.venues.paper import PaperExchange
from makerd.venues.paper.queue_models import PowerProbQueue
from tests.replay_kit import post_only_bid

BTC = Instrument(coin="BTC", asset_id=0, sz_decimals=5)
MS = 1_000_000
T0 = 1_700_000_000_000 * MS
D = Decimal


@dataclass(frozen=True, slots=True)
class Book:
    bid_size: str


@dataclass(frozen=True, slots=True)
class Sell:
    size: str


def run(model: QueueModel, stream: list[Book | Sell], *, power: float = 2.0) -> list[str]:
    """Feed ``stream`` one event a millisecond; the fills of our bid, as "ms:size"."""
    config = PaperConfig(
        order_entry_latency_ms=0, ack_latency_ms=0, queue_model=model, queue_power=power
    )
    venue = PaperExchange(BTC, config, id_prefix="q")
    venue.on_market(book(T0, "4"))
    venue.submit(post_only_bid("60000", "0.5", at=T0), T0)
    filled: list[str] = []
    for step, event in enumerate(stream, start=1):
        ts = T0 + step * MS
        venue.on_market(
            book(ts, event.bid_size) if isinstance(event, Book) else sell(ts, event.size)
        )
        filled += [
            f"{(e.ts_local - T0) // MS}:{e.size.normalize()}"
            for e in venue.advance(ts)
            if isinstance(e, OrderFilled)
        ]
    return filled


def book(ts: int, bid_size: str) -> BookSnapshotReceived:
    return BookSnapshotReceived(
        coin="BTC",
        bids=(BookLevel(price=D(60000), size=D(bid_size)), BookLevel(price=D(59999), size=D(1))),
        asks=(BookLevel(price=D(60001), size=D(1)),),
        ts_exchange=ts,
        ts_local=ts,
    )


def sell(ts: int, size: str) -> TradePrinted:
    return TradePrinted(
        coin="BTC",
        side=Side.SELL,
        price=D(60000),
        size=D(size),
        trade_id=f"t{ts}",
        ts_exchange=ts,
        ts_local=ts,
    )


CANCELS_AHEAD_AND_BEHIND: list[Book | Sell] = [
    Book("8"),
    Book("4"),
    Sell("2.25"),
    Sell("1"),
    Sell("1"),
]


def test_risk_averse_fills_only_once_the_whole_displayed_queue_has_traded() -> None:
    # 4 ahead; the cancels are taken as behind us: 2.25 + 1 trade the queue down to 0.75.
    assert run(QueueModel.RISK_AVERSE, CANCELS_AHEAD_AND_BEHIND) == ["5:0.25"]


def test_power_prob_takes_half_of_the_cancels_from_ahead_when_both_sides_are_equal() -> None:
    # 4 ahead, 4 behind, 4 cancelled: 2 of them ahead, so 2.25 sold fills 0.25, 1 more fills 0.25.
    assert run(QueueModel.POWER_PROB, CANCELS_AHEAD_AND_BEHIND) == ["3:0.25", "4:0.25"]


def test_a_level_that_shrinks_by_what_traded_moves_neither_model_twice() -> None:
    # 1 traded then a book 1 smaller: no cancel, the queue ahead stays 3.
    stream: list[Book | Sell] = [Sell("1"), Book("3"), Sell("3"), Sell("0.5")]
    for model in QueueModel:
        assert run(model, stream) == ["4:0.5"], model


def test_a_level_that_grows_never_puts_anyone_ahead_of_us() -> None:
    stream: list[Book | Sell] = [Book("9"), Sell("4.1")]
    for model in QueueModel:
        assert run(model, stream) == ["2:0.1"], model


@pytest.mark.parametrize(
    ("power", "ahead_after"), [(1.0, "3.00000"), (2.0, "3.60000"), (3.0, "3.85715")]
)
def test_power_prob_puts_more_of_a_cancel_on_the_longer_side_as_n_grows(
    power: float, ahead_after: str
) -> None:
    # 4 ahead, 12 behind, 4 cancelled: share behind = 12^n / (4^n + 12^n).
    model = PowerProbQueue(power=power, lot=BTC.lot)

    ahead = model.after_book(front=D(4), shown_before=D(16), shown_now=D(12), traded=D(0))

    assert str(ahead) == ahead_after


def test_power_prob_takes_every_cancel_from_ahead_when_nobody_is_behind_us() -> None:
    model = PowerProbQueue(power=2.0, lot=BTC.lot)

    ahead = model.after_book(front=D(2), shown_before=D(2), shown_now=D(1), traded=D(0))

    assert ahead == D(1)
