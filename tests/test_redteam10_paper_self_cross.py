"""Our own resting orders, as the venue's book holds them and paper's public book does not.

At the venue our orders are in the book: a post-only bid at or above our own ask would
cross it and is refused (with our ask in the bbo it reports), and an order that trades
through our own ask expires that ask instead of trading with it (self-trade prevention:
the resting order is cancelled, no fill). Paper's public book never shows our orders, so
paper rested the crossing post-only bid and left the ask a taker of ours went through.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from makerd.protocol.orders import OrderRejected, PlaceOrders, TimeInForce
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from tests.paper_parity_kit import Twins, now, request, still_venue


@pytest.fixture
def venue_url() -> Iterator[str]:
    with still_venue(seed=103) as url:
        yield url


def inside_ask(twins: Twins) -> Decimal:
    """A price inside the spread, two ticks above the best bid."""
    assert twins.best(Side.SELL) - twins.best(Side.BUY) >= 3, "the spread leaves room"
    return twins.best(Side.BUY) + 2


def test_a_post_only_bid_crossing_our_own_ask_is_refused_on_paper_as_at_the_venue(
    venue_url: str,
) -> None:
    twins = Twins(venue_url)
    ask = request(1, Side.SELL, inside_ask(twins), "0.001")
    bid = request(2, Side.BUY, ask.price, "0.001")

    live, paper = twins.run(
        PlaceOrders(orders=(ask,), ts_local=now()), PlaceOrders(orders=(bid,), ts_local=now())
    )

    assert live.refused == ((bid.cloid, RejectReason.POST_ONLY_WOULD_CROSS),)
    assert live.resting == ((ask.cloid, ask.price, ask.size),)
    assert paper == live


def test_the_refusal_names_our_own_ask_in_the_bbo_as_the_venue_does(venue_url: str) -> None:
    twins = Twins(venue_url)
    ask = request(3, Side.SELL, inside_ask(twins), "0.001")
    bid = request(4, Side.BUY, ask.price, "0.001")
    commands = (
        PlaceOrders(orders=(ask,), ts_local=now()),
        PlaceOrders(orders=(bid,), ts_local=now()),
    )

    twins.harness.run(*commands)
    paper = twins.run_paper(*commands)

    live_text = [e.message for e in twins.harness.emitted if isinstance(e, OrderRejected)]
    paper_text = [e.message for e in paper if isinstance(e, OrderRejected)]
    assert live_text == [f"{paper_text[0]} asset=0"]
    assert f"@{ask.price.normalize():f}" in paper_text[0]


def test_a_bid_trading_through_our_own_ask_expires_the_ask_on_paper_as_at_the_venue(
    venue_url: str,
) -> None:
    twins = Twins(venue_url)
    ask = request(5, Side.SELL, inside_ask(twins), "0.001")
    bid = request(6, Side.BUY, ask.price, "0.001", tif=TimeInForce.GOOD_TILL_CANCEL)

    live, paper = twins.run(
        PlaceOrders(orders=(ask,), ts_local=now()), PlaceOrders(orders=(bid,), ts_local=now())
    )

    assert live.refused == ()
    assert live.resting == ((bid.cloid, bid.price, bid.size),), "the ask expired, the bid rests"
    assert live.position == 0, "no self-trade"
    assert paper == live


def test_an_ioc_through_our_own_ask_expires_it_and_fills_from_the_others(venue_url: str) -> None:
    twins = Twins(venue_url)
    ask = request(7, Side.SELL, inside_ask(twins), "0.001")
    take = request(8, Side.BUY, twins.best(Side.SELL), "0.001", tif=TimeInForce.IMMEDIATE_OR_CANCEL)

    live, paper = twins.run(
        PlaceOrders(orders=(ask,), ts_local=now()), PlaceOrders(orders=(take,), ts_local=now())
    )

    assert live.resting == ()
    assert live.position == take.size
    assert paper == live


def test_an_ioc_reaching_only_our_own_ask_expires_it_and_is_refused(venue_url: str) -> None:
    twins = Twins(venue_url)
    ask = request(9, Side.SELL, inside_ask(twins), "0.001")
    take = request(10, Side.BUY, ask.price, "0.001", tif=TimeInForce.IMMEDIATE_OR_CANCEL)

    live, paper = twins.run(
        PlaceOrders(orders=(ask,), ts_local=now()), PlaceOrders(orders=(take,), ts_local=now())
    )

    assert live.refused == ((take.cloid, RejectReason.IOC_NO_MATCH),)
    assert live.resting == (), "the ask expired all the same"
    assert paper == live
