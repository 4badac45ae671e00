"""A modify sends the order to the back of its level, on paper as at the venue.

Hyperliquid's modify is cancel-and-replace: the order gets a new oid and joins the back of
its price level, even when only its size shrank. Paper kept the place in the queue of an
order shrunk at the same price, so it filled paper orders the venue would have filled
only after everyone who joined the level since.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from makerd.protocol.account import OrderFilled
from makerd.protocol.market import BookLevel, BookSnapshotReceived, TradePrinted
from makerd.protocol.orders import (
    ModifyOrders,
    OrderAmendment,
    PlaceOrders,
    RequestAccountSnapshot,
    TimeInForce,
)
from makerd.protocol.side import Side
from tests.paper_parity_kit import Twins, now, outcome, request, still_venue
from tests.test_hl_gateway import Harness


@pytest.fixture
def venue_url() -> Iterator[str]:
    with still_venue(seed=104) as url:
        yield url


def test_an_order_shrunk_in_place_fills_after_those_who_joined_its_level_since(
    venue_url: str,
) -> None:
    twins = Twins(venue_url)
    price = twins.best(Side.BUY) + 1  # a level of its own, inside the spread
    ours = request(1, Side.BUY, price, "0.002")
    theirs = request(2, Side.BUY, price, "0.002")
    shrink = OrderAmendment(cloid=ours.cloid, price=price, size=Decimal("0.001"))
    seller = request(3, Side.SELL, price, "0.002", tif=TimeInForce.IMMEDIATE_OR_CANCEL)

    twins.harness.run(PlaceOrders(orders=(ours,), ts_local=now()))
    Harness(venue_url).run(PlaceOrders(orders=(theirs,), ts_local=now()))
    twins.harness.run(ModifyOrders(amendments=(shrink,), ts_local=now()))
    Harness(venue_url).run(PlaceOrders(orders=(seller,), ts_local=now()))
    ask = RequestAccountSnapshot(coin="BTC", ts_local=now())
    twins.harness.emitted.clear()
    live = outcome(twins.harness.run(ask))

    placed = twins.run_paper(PlaceOrders(orders=(ours,), ts_local=now()))
    at = twins.book.ts_local + 10**10
    their_level = (BookLevel(price=price, size=theirs.size), *twins.book.bids)
    twins.paper.on_market(
        BookSnapshotReceived(
            coin="BTC", bids=their_level, asks=twins.book.asks, ts_exchange=at, ts_local=at
        )
    )
    twins.paper.submit(ModifyOrders(amendments=(shrink,), ts_local=at), at)
    twins.paper.advance(at + 10**9)
    sold = TradePrinted(
        coin="BTC",
        side=Side.SELL,
        price=price,
        size=seller.size,
        trade_id="theirs",
        ts_exchange=at + 2 * 10**9,
        ts_local=at + 2 * 10**9,
    )
    twins.paper.on_market(sold)
    filled = [e for e in twins.paper.advance(at + 3 * 10**9) if isinstance(e, OrderFilled)]
    paper = outcome(twins.run_paper(ask))

    assert live.position == 0, "the venue filled the order that joined after ours first"
    assert live.resting == ((ours.cloid, price, shrink.size),)
    assert placed, "paper took the order"
    assert filled == []
    assert paper == live
