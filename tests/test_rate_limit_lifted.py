"""A rate limit is over once the exchange accepts an action sent after it began: new risk
goes out then, not when the request budget's backoff would have ended.

During an address limit the dead-man re-arm is retried every second and is refused with
everything else; the first one accepted after the limit ends is the exchange saying so.
Before, quoting waited out the rest of a backoff that had doubled to 4-8 s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from makerd.protocol.orders import (
    ArmDeadManSwitch,
    CancelOrders,
    CancelReason,
    DeadManSwitchArmed,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    PlaceOrders,
)
from makerd.protocol.rejections import RejectReason
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.rate_budget import Priority, RateBudget
from tests.test_hl_gateway import T0, Harness, fault, resting_bid

S = 1_000_000_000
LISTING = 20
"""The weight of an open-orders listing, a query that waits out the backoff."""


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=47, tick_interval_s=0.2))
    yield venue.start()
    venue.stop()


class HandClock:
    """The budget's clock, moved by the test: a backoff ends only when the test says."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_placement_after_the_exchange_accepted_a_re_arm_sent_during_the_backoff_goes_out(
    venue_url: str,
) -> None:
    clock = HandClock()
    harness = Harness(venue_url, budget=RateBudget(weight_per_minute=600, clock=clock))
    refused, placed = resting_bid(venue_url, 71), resting_bid(venue_url, 72)
    fault(venue_url, {"rate_limit_next": 1})  # the address limit refuses the next action

    harness.run(PlaceOrders(orders=(refused,), ts_local=time.time_ns()))
    clock.now = 0.1  # the backoff (0.5-1 s) runs on
    now = time.time_ns()
    harness.run(ArmDeadManSwitch(cancel_at_ns=now + 60 * S, ts_local=now))
    clock.now = 0.2
    events = harness.run(PlaceOrders(orders=(placed,), ts_local=time.time_ns()))

    first, armed, *after = events
    assert isinstance(first, OrderRejected)
    assert first.reason is RejectReason.RATE_LIMITED
    assert isinstance(armed, DeadManSwitchArmed)
    assert harness.lifts == [True], "the re-arm's acceptance is told to the order manager"
    accepted = [e for e in after if isinstance(e, OrderAccepted)]
    assert [e.cloid for e in accepted] == [placed.cloid], after


def test_a_cancel_accepted_during_the_backoff_lifts_nothing(venue_url: str) -> None:
    # Cancels have an address allowance of their own: one taken says nothing of orders.
    clock = HandClock()
    harness = Harness(venue_url, budget=RateBudget(weight_per_minute=600, clock=clock))
    resting, refused, held = (resting_bid(venue_url, n) for n in (73, 74, 75))
    harness.run(PlaceOrders(orders=(resting,), ts_local=time.time_ns()))
    fault(venue_url, {"rate_limit_next": 1})

    harness.run(PlaceOrders(orders=(refused,), ts_local=time.time_ns()))
    clock.now = 0.1
    harness.run(CancelOrders(cloids=(resting.cloid,), reason=CancelReason.REQUOTE, ts_local=T0))
    clock.now = 0.2
    events = harness.run(PlaceOrders(orders=(held,), ts_local=time.time_ns()))

    assert any(isinstance(e, OrderCancelled) for e in events)
    assert harness.lifts == []
    last = events[-1]
    assert isinstance(last, OrderRejected)
    assert (last.cloid, last.reason) == (held.cloid, RejectReason.RATE_LIMITED)


def test_an_accepted_action_sent_once_the_backoff_began_ends_it_at_once() -> None:
    clock = HandClock()
    budget = RateBudget(weight_per_minute=600, clock=clock)
    budget.record_rate_limited()
    clock.now = 0.2

    lifted = budget.record_success(sent_at=0.1)

    assert lifted
    assert budget.seconds_until(1, priority=Priority.TRADE) == 0


def test_an_acceptance_that_says_nothing_of_the_limit_leaves_the_backoff_running() -> None:
    clock = HandClock()
    clock.now = 1.0
    budget = RateBudget(weight_per_minute=600, clock=clock)
    budget.record_rate_limited()
    clock.now = 1.2

    sent_before_the_refusal = budget.record_success(sent_at=0.9)  # answered late
    a_cancel = budget.record_success(sent_at=None)  # cancels have an allowance of their own

    assert not sent_before_the_refusal
    assert not a_cancel
    assert budget.seconds_until(1, priority=Priority.TRADE) > 0


def a_backoff_of_at_least_15_s(budget: RateBudget, clock: HandClock) -> None:
    """Six episodes, each probe sent as the last backoff ended: the sixth pause is
    15-30 s (the doubling's cap, jittered)."""
    for _ in range(5):
        clock.now += budget.record_rate_limited(sent_at=clock.now) + 0.01
    budget.record_rate_limited(sent_at=clock.now)


def test_a_query_waiting_out_the_backoff_goes_once_an_action_shows_the_limit_is_over() -> None:
    clock = HandClock()
    budget = RateBudget(weight_per_minute=600, clock=clock)
    a_backoff_of_at_least_15_s(budget, clock)
    began = clock.now

    async def listing_after_the_lift() -> None:
        listing = asyncio.create_task(budget.acquire(LISTING, priority=Priority.QUERY))
        await asyncio.sleep(0)  # the listing starts waiting
        assert not listing.done()
        clock.now = began + 0.1
        budget.record_success(sent_at=began + 0.05)
        # A deadline for failing, far under the 15 s it slept before, not a figure.
        await asyncio.wait_for(listing, timeout=10)

    asyncio.run(listing_after_the_lift())

    assert budget.weight_spent == LISTING
