"""A resting reduce-only order never trades past the position, on paper or at the venue.

Reduce-only means the order can only shrink the position: the exchange refuses one that
would grow it ("Reduce only order would increase position.") and cancels a resting one
the position no longer leaves room for (status ``reduceOnlyCanceled``). Two reduce-only
asks each the size of a long are both accepted; a buyer that takes both filled the local
venue's second ask too and turned the long into a short, where paper (rightly) filled one
and cancelled the other.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from makerd.protocol.market import TradePrinted
from makerd.protocol.orders import PlaceOrders, RequestAccountSnapshot, TimeInForce
from makerd.protocol.side import Side
from tests.paper_parity_kit import Twins, now, outcome, request, still_venue
from tests.test_hl_gateway import Harness


@pytest.fixture
def venue_url() -> Iterator[str]:
    with still_venue(seed=106) as url:
        yield url


IOC = TimeInForce.IMMEDIATE_OR_CANCEL


def test_a_buyer_through_two_reduce_only_asks_closes_the_long_and_no_more(
    venue_url: str,
) -> None:
    twins = Twins(venue_url)
    long = request(1, Side.BUY, twins.best(Side.SELL), "0.001", tif=IOC)
    price = twins.best(Side.SELL) - 1  # our own level, inside the spread
    first = request(2, Side.SELL, price, "0.001", reduce_only=True)
    second = request(3, Side.SELL, price, "0.001", reduce_only=True)
    buyer = request(4, Side.BUY, price, "0.002", tif=IOC)
    mine = (
        PlaceOrders(orders=(long,), ts_local=now()),
        PlaceOrders(orders=(first, second), ts_local=now()),
    )

    twins.harness.run(*mine)
    Harness(venue_url).run(PlaceOrders(orders=(buyer,), ts_local=now()))
    twins.harness.emitted.clear()
    live = outcome(twins.harness.run(RequestAccountSnapshot(coin="BTC", ts_local=now())))

    twins.run_paper(*mine)
    at = twins.book.ts_local + 10**10
    twins.paper.on_market(
        TradePrinted(
            coin="BTC",
            side=Side.BUY,
            price=price,
            size=buyer.size,
            trade_id="buyer",
            ts_exchange=at,
            ts_local=at,
        )
    )
    paper = outcome(twins.run_paper(RequestAccountSnapshot(coin="BTC", ts_local=now())))

    assert live.position == 0, "the second reduce-only ask would have opened a short"
    assert live.resting == ()
    assert paper == live
