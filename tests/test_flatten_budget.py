"""A flatten's closing order removes risk: makerd's own request budget lets it spend the
reserve kept for cancels, where a quote is refused. Sent as new risk, every closing order
of a stop on a short budget was refused in makerd ("local request budget: next order in
10.6s"), none reached the venue, and the stop left the position open."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from makerd.protocol.orders import OrderRejected, PlaceOrders, TimeInForce
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.rate_budget import Priority, RateBudget
from tests.paper_parity_kit import now
from tests.test_hl_gateway import Harness, resting_bid

WEIGHT_PER_MINUTE = 60


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=31, tick_interval_s=0.2))
    yield venue.start()
    venue.stop()


def spent_to_the_reserve() -> RateBudget:
    """A budget that quoting has spent down to what it keeps for removing risk."""
    budget = RateBudget(weight_per_minute=WEIGHT_PER_MINUTE)
    budget.try_spend(int(budget.weight_left * 0.85), priority=Priority.CANCEL)
    return budget


def budget_refusals(emitted: list[object]) -> list[OrderRejected]:
    return [
        event
        for event in emitted
        if isinstance(event, OrderRejected) and event.reason is RejectReason.RATE_LIMITED
    ]


def test_a_closing_order_spends_the_reserve_a_quote_may_not(venue_url: str) -> None:
    quote = resting_bid(venue_url, 1)
    # With no position the venue refuses it ("Reduce only order would increase
    # position"): what matters is that it reached the venue.
    closing = replace(
        resting_bid(venue_url, 2),
        side=Side.SELL,
        tif=TimeInForce.IMMEDIATE_OR_CANCEL,
        reduce_only=True,
    )

    quoted = Harness(venue_url, budget=spent_to_the_reserve()).run(
        PlaceOrders(orders=(quote,), ts_local=now())
    )
    closed = Harness(venue_url, budget=spent_to_the_reserve()).run(
        PlaceOrders(orders=(closing,), ts_local=now())
    )

    assert budget_refusals(quoted), "the quote was meant to meet the reserve"
    assert budget_refusals(closed) == [], "the closing order was refused in makerd"
