"""Order actions over the WebSocket ``post`` channel, against the local venue on loopback:
real signing, a real socket, the venue's own faults. An answer that does not come, or a
connection that closes first, is a lost answer (settled from the venue), never a refusal."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from eth_account import Account

from makerd.protocol.orders import OrderAccepted, OrderRejected, PlaceOrders
from makerd.protocol.rejections import RejectReason
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_hl_gateway import Harness, fault, resting_bid
from tests.test_hl_live_e2e import wait_until

DEAD_HTTP = "http://127.0.0.1:9"
"""Nothing listens here: an action that went over HTTP would be lost."""


@pytest.fixture
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=6, tick_interval_s=0.2))
    url = venue.start()
    yield url
    venue.stop()


def open_orders(url: str, harness: Harness) -> int:
    user = Account.from_key(harness.key).address.lower()
    try:
        with urllib.request.urlopen(f"{url}/_debug/account?user={user}", timeout=5) as reply:
            count: int = json.loads(reply.read())["open_orders"]
    except urllib.error.HTTPError as error:
        if error.code == 404:  # the venue has not met the account yet
            return 0
        raise
    return count


def test_an_order_posted_over_the_socket_is_accepted_while_http_is_down(venue_url: str) -> None:
    harness = Harness(venue_url, rest_url=DEAD_HTTP, posts_url=venue_url)
    order = resting_bid(venue_url, 11)

    events = harness.run(PlaceOrders(orders=(order,), ts_local=time.time_ns()))

    assert [type(event) for event in events] == [OrderAccepted]
    assert harness.settled == []
    assert open_orders(venue_url, harness) == 1


def test_an_answer_that_does_not_come_in_time_is_lost_and_settled_never_refused(
    venue_url: str,
) -> None:
    harness = Harness(venue_url, rest_url=DEAD_HTTP, posts_url=venue_url, post_timeout_s=0.3)
    fault(venue_url, {"delay_exchange_s": 1.0})

    events = harness.run(PlaceOrders(orders=(resting_bid(venue_url, 12),), ts_local=time.time_ns()))

    assert events == []  # neither accepted nor rejected: only the venue knows
    assert harness.settled == [True]
    # It did arrive: the venue rests it once the delay is over, as a settle would find.
    wait_until(lambda: open_orders(venue_url, harness) == 1, timeout_s=5)


def test_a_connection_lost_with_a_post_in_flight_loses_the_post_at_once(venue_url: str) -> None:
    harness = Harness(venue_url, rest_url=DEAD_HTTP, posts_url=venue_url, post_timeout_s=5.0)
    fault(venue_url, {"delay_exchange_s": 2.0})
    drop = threading.Timer(0.3, fault, (venue_url, {"drop_connections": True}))
    drop.start()
    started = time.monotonic()

    events = harness.run(PlaceOrders(orders=(resting_bid(venue_url, 13),), ts_local=time.time_ns()))

    drop.join()
    assert events == []
    assert harness.settled == [True]
    assert time.monotonic() - started < 1.5  # not the 5 s timeout, nor the 2 s delay


def test_a_429_on_the_socket_is_a_rate_limit_refusal_that_backs_off(venue_url: str) -> None:
    harness = Harness(venue_url, rest_url=DEAD_HTTP, posts_url=venue_url)
    fault(venue_url, {"rate_limit_next": 1, "rate_limit_http_429": True})

    events = harness.run(PlaceOrders(orders=(resting_bid(venue_url, 14),), ts_local=time.time_ns()))

    assert [type(event) for event in events] == [OrderRejected]
    assert isinstance(events[0], OrderRejected)
    assert events[0].reason is RejectReason.RATE_LIMITED
    assert harness.budget.rate_limited_total == 1
    assert harness.settled == []


def test_a_channel_that_cannot_connect_leaves_actions_to_http(venue_url: str) -> None:
    harness = Harness(venue_url, posts_url=None)
    order = resting_bid(venue_url, 15)

    events = harness.run(PlaceOrders(orders=(order,), ts_local=time.time_ns()))

    assert [type(event) for event in events] == [OrderAccepted]


def test_a_reset_on_the_socket_loses_the_post_and_the_next_one_goes_over_http_meanwhile(
    venue_url: str,
) -> None:
    harness = Harness(venue_url, posts_url=venue_url)
    fault(venue_url, {"reset_next": 1, "paths": ["exchange"]})
    first, second = resting_bid(venue_url, 16), resting_bid(venue_url, 17)

    events = harness.run(
        PlaceOrders(orders=(first,), ts_local=time.time_ns()),
        PlaceOrders(orders=(second,), ts_local=time.time_ns()),
    )

    assert harness.settled == [True]  # the first: its connection closed unanswered
    assert [(type(e), e.cloid) for e in events] == [(OrderAccepted, second.cloid)]  # type: ignore[attr-defined]
    assert open_orders(venue_url, harness) == 1
