"""Paper refuses what the exchange refuses while a coin is at its open-interest cap.

Live, the exchange refuses every order that could grow a position on a capped coin, and
makerd holds the coin reduce-only. Paper matched those orders as if nothing were capped:
a paper run on a capped coin filled where live was refused. Paper now asks the venue which
coins are capped (``perpsAtOpenInterestCap``) as paper mode does, and its matching answers
as the local venue does, order by order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from makerd.protocol.orders import PlaceOrders, TimeInForce
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.paper_caps import PaperCapWatch
from tests.paper_parity_kit import Twins, now, request, still_venue
from tests.test_hl_live_e2e import fault

IOC = TimeInForce.IMMEDIATE_OR_CANCEL


@pytest.fixture
def venue_url() -> Iterator[str]:
    with still_venue(seed=117) as url:
        yield url


def test_paper_refuses_at_the_cap_order_by_order_as_the_venue_does_and_not_after_it(
    venue_url: str,
) -> None:
    twins = Twins(venue_url)
    watch = PaperCapWatch(
        api_url=venue_url,
        coins=("BTC",),
        apply=lambda capped: twins.paper.cap_open_interest("BTC" in capped),
    )
    long = request(1, Side.BUY, twins.best(Side.SELL), "0.002", tif=IOC)
    twins.run(PlaceOrders(orders=(long,), ts_local=now()))  # long 0.002 at both
    far_ask = twins.best(Side.SELL) + 100
    grow = request(2, Side.BUY, twins.best(Side.BUY) - 1, "0.001")
    flip = request(3, Side.SELL, far_ask, "0.003")
    reduce = request(4, Side.SELL, far_ask, "0.001")

    fault(venue_url, {"open_interest_cap_s": 60, "coin": "BTC"})
    asyncio.run(watch.poll())
    live, paper = twins.run(PlaceOrders(orders=(grow, flip, reduce), ts_local=now()))
    fault(venue_url, {"open_interest_cap_s": 0, "coin": "BTC"})
    asyncio.run(watch.poll())
    after = request(5, Side.BUY, twins.best(Side.BUY) - 2, "0.001")
    live_after, paper_after = twins.run(PlaceOrders(orders=(after,), ts_local=now()))

    capped = RejectReason.OPEN_INTEREST_CAP
    assert live.refused == ((grow.cloid, capped), (flip.cloid, capped))
    assert [cloid for cloid, _, _ in live.resting] == [reduce.cloid]
    assert paper == live, "paper took an order the capped venue refused, or the reverse"
    assert watch.capped == frozenset(), "the lifted cap is still in force in paper"
    assert live_after.refused == ()
    assert paper_after == live_after


def test_a_venue_that_does_not_serve_the_question_is_not_asked_again(venue_url: str) -> None:
    applied: list[frozenset[str]] = []
    # A dex the venue does not list: it refuses the question, as a venue would that did
    # not serve it at all.
    watch = PaperCapWatch(api_url=venue_url, coins=("nope:X",), apply=applied.append)

    asyncio.run(watch.run())  # returns: it stops asking

    assert not watch.served
    assert applied == []
    assert watch.capped == frozenset()
