"""The paper book answers "what is shown at this price" exactly as a walk over the levels
does, including for a price beyond the published depth, which it answers without one."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from makerd.protocol.market import BookLevel, BookSnapshotReceived
from makerd.protocol.side import Side
from makerd.venues.paper.book import LocalBook
from tests.kit import T0

PRICES = st.integers(min_value=90, max_value=110).map(Decimal)
LEVELS = st.lists(
    st.builds(BookLevel, price=PRICES, size=st.integers(1, 5).map(Decimal)),
    max_size=8,
)


def walked(levels: tuple[BookLevel, ...], side: Side, price: Decimal) -> Decimal | None:
    """Level by level from the first, as the rule is stated (nothing taken)."""
    for level in levels:
        if level.price == price:
            return level.size
        if (level.price < price) if side is Side.BUY else (level.price > price):
            return Decimal(0)
    return Decimal(0) if not levels else None


@given(LEVELS, LEVELS, st.sampled_from(Side), PRICES, st.booleans())
def test_shown_size_is_the_walks_answer_for_sorted_and_unsorted_books(
    bids: list[BookLevel], asks: list[BookLevel], side: Side, price: Decimal, in_order: bool
) -> None:
    if in_order:  # as the exchange sends them; the other half as they came
        bids = sorted(bids, key=lambda level: level.price, reverse=True)
        asks = sorted(asks, key=lambda level: level.price)
    book = LocalBook()
    snapshot = BookSnapshotReceived(
        coin="BTC", bids=tuple(bids), asks=tuple(asks), ts_exchange=T0, ts_local=T0
    )
    book.replace(snapshot)

    levels = snapshot.bids if side is Side.BUY else snapshot.asks
    assert book.displayed_at(side, price) == walked(levels, side, price)


def test_a_price_behind_the_last_level_is_unknown_and_one_inside_a_gap_is_empty() -> None:
    book = LocalBook()
    bids = (
        BookLevel(price=Decimal(100), size=Decimal(2)),
        BookLevel(price=Decimal(98), size=Decimal(1)),
    )
    book.replace(BookSnapshotReceived(coin="BTC", bids=bids, asks=(), ts_exchange=T0, ts_local=T0))

    assert book.displayed_at(Side.BUY, Decimal(97)) is None
    assert book.displayed_at(Side.BUY, Decimal(99)) == 0
    assert book.displayed_at(Side.BUY, Decimal(98)) == 1
    assert book.displayed_at(Side.SELL, Decimal(101)) == 0, "an empty side shows nothing"
