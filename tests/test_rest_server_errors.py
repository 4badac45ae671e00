"""An HTTP 5xx from the exchange's API is a lost request, said as such: the real RestClient
against the local venue, whose fault makes its next answers a 502 (or another 5xx) with a
text body, as a gateway in front of the exchange would."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.rate_budget import RateBudget
from makerd.venues.hyperliquid.rest import RequestLostError, RestClient
from tests.test_hl_live_e2e import fault


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    running = VenueThread(VenueConfig(port=0, auto_provision=True, seed=12, tick_interval_s=0.2))
    running.start()
    yield running
    running.stop()


def ask_meta_twice(url: str) -> tuple[object, object]:
    """The first ``meta`` query's answer or error, then the next one's answer."""

    async def asking() -> tuple[object, object]:
        rest = RestClient(url, RateBudget(weight_per_minute=600), timeout_s=5.0)
        await rest.open()
        try:
            try:
                first: object = await rest.info({"type": "meta"})
            except RequestLostError as lost:
                first = lost
            return first, await rest.info({"type": "meta"})
        finally:
            await rest.close()

    return asyncio.run(asking())


@pytest.mark.parametrize(("status", "reason"), [(502, "Bad Gateway"), (503, "Service Unavailable")])
def test_a_5xx_answer_to_a_query_is_a_lost_request_naming_the_status(
    venue: VenueThread, status: int, reason: str
) -> None:
    fault(venue.url, {"http_error_next": 1, "http_error_status": status, "paths": ["info"]})

    first, second = ask_meta_twice(venue.url)

    # Before: the gateway's text page came back as the answer, and the query's parser
    # said "unreadable" about a page that was never the exchange's.
    assert isinstance(first, RequestLostError), first
    assert str(first) == f"/info: HTTP {status} {reason}"
    assert isinstance(second, dict), "the next query is answered"
    assert "universe" in second
