"""One rate-limit episode doubles the request budget's backoff once, however many of the
requests already on their way the exchange refuses, and however slowly it answers them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.rate_budget import RateBudget
from makerd.venues.hyperliquid.rest import RateLimitedError, RestClient
from tests.test_hl_live_e2e import fault

ANSWER_DELAY_S = 2.0
"""Longer than the first pause (0.5-1 s): a request sent just before the first refusal
came is answered after that pause has ended."""


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=31, tick_interval_s=0.2))
    yield venue.start()
    venue.stop()


async def refusal_pause(request: asyncio.Task[object]) -> float:
    """The pause the budget stated when the venue refused ``request`` with HTTP 429."""
    with pytest.raises(RateLimitedError) as refused:
        await request
    return refused.value.retry_after_s


async def slow_refusals(url: str) -> tuple[float, float, float]:
    """Two queries sent 1.5 s apart and a third sent once the second was refused, every
    one refused with 429 after ANSWER_DELAY_S; the pause each refusal stated."""
    rest = RestClient(url, RateBudget(weight_per_minute=1200), timeout_s=10)
    await rest.open()
    try:
        first = asyncio.create_task(rest.info({"type": "meta"}))
        await asyncio.sleep(ANSWER_DELAY_S - 0.5)
        in_flight = asyncio.create_task(rest.info({"type": "meta"}))
        first_pause = await refusal_pause(first)
        in_flight_pause = await refusal_pause(in_flight)
        # Sent after that (once any backoff left has run): the limit goes on.
        probe_pause = await refusal_pause(asyncio.create_task(rest.info({"type": "meta"})))
    finally:
        await rest.close()
    return first_pause, in_flight_pause, probe_pause


def test_a_refusal_of_a_request_in_flight_when_the_first_429_came_is_no_new_episode(
    venue_url: str,
) -> None:
    fault(venue_url, {"rate_limit_for_s": 30, "rate_limit_kind": "ip"})
    fault(venue_url, {"delay_info_s": ANSWER_DELAY_S})
    try:
        first, in_flight, probe = asyncio.run(slow_refusals(venue_url))
    finally:
        fault(venue_url, {"clear": True})

    assert first <= 1.0
    assert in_flight <= 0.1, "sent before the first refusal: it says nothing new"
    # The second episode pauses 1-2 s. Counted by arrival, the slow refusal of the request
    # in flight was a second episode, and the probe's pause was a third's (2-4 s).
    assert probe <= 2.0, probe


def test_a_request_sent_during_a_backoff_and_refused_after_it_extends_nothing() -> None:
    # A cancel (or a dead-man re-arm) never waits for the backoff: sent during it, its
    # refusal may arrive just after it ended.
    now = [0.0]
    budget = RateBudget(weight_per_minute=600, clock=lambda: now[0])
    first = budget.record_rate_limited()
    sent_during = first / 2
    now[0] = first + 0.1

    late = budget.record_rate_limited(sent_at=sent_during)
    probe_sent = now[0]
    second = budget.record_rate_limited(sent_at=probe_sent)

    assert late <= 0.1, "no new pause: the backoff it was sent in has ended"
    assert second <= 2.0, "the second episode's pause (1-2 s), not a third's (2-4 s)"
