"""Red team 11: order times the exchange judges by its own clock, on a host whose clock
disagrees with it.

``expiresAfter`` and ``scheduleCancel`` are exchange times. makerd wrote both from the
host's clock: on a host 3 s ahead of the exchange an action whose answer was lost could
still come to rest 3 s after makerd had written it off (its ``expiresAfter`` plus the
1 s allowed for skew), so a listing then counted nothing unsettled and a second ladder
could join the first; on a host 4 s behind, a dead-man switch of 10 s fired 6 s after each
arm, cancelling every quote before the watchdog's re-arm was due (and a switch of 6 s
or 8 s was refused as "too early" at every arm, so quotes were pulled for good). Both
are now written in the exchange's time as makerd last read it (the time in its account
answers and its books), with the local venue's clock set apart from the host's.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from eth_account import Account

from makerd.protocol.orders import (
    ArmDeadManSwitch,
    OrderAccepted,
    OrderRejected,
    PlaceOrders,
    RequestAccountSnapshot,
)
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_hl_gateway import Harness, fault, resting_bid
from tests.test_hl_live_e2e import wait_until

NS_PER_S = 1_000_000_000


def venue_skewed(offset_s: float, seed: int) -> Iterator[str]:
    venue = VenueThread(
        VenueConfig(
            port=0, auto_provision=True, seed=seed, tick_interval_s=0.2, clock_offset_s=offset_s
        )
    )
    yield venue.start()
    venue.stop()


@pytest.fixture
def exchange_behind() -> Iterator[str]:
    """A venue whose clock reads 3 s less than the host's."""
    yield from venue_skewed(-3.0, seed=21)


@pytest.fixture
def exchange_ahead() -> Iterator[str]:
    """A venue whose clock reads 4 s more than the host's (within the 5 s the frame
    guard allows: its account answers are read)."""
    yield from venue_skewed(4.0, seed=22)


def account(url: str, harness: Harness) -> dict[str, object]:
    """What the venue holds for the harness's account (nothing before its first action)."""
    user = Account.from_key(harness.key).address.lower()
    try:
        with urllib.request.urlopen(f"{url}/_debug/account?user={user}", timeout=5) as reply:
            answer: dict[str, object] = json.loads(reply.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:  # the venue has not met the account yet
            return {"actions": [], "open_orders": 0}
        raise
    return answer


def placements_handled(url: str, harness: Harness) -> int:
    actions = account(url, harness)["actions"]
    assert isinstance(actions, list)
    return sum(1 for action in actions if action["type"] == "order")


def test_a_placement_written_off_after_its_lost_answer_never_comes_to_rest_later(
    exchange_behind: str,
) -> None:
    url = exchange_behind
    harness = Harness(url, posts_url=url, post_timeout_s=0.5, clock=time.time_ns)
    order = resting_bid(url, 31)
    fault(url, {"delay_exchange_s": 6.0})  # handled 6 s after it arrives, answer long lost

    events = harness.run(
        RequestAccountSnapshot(coin="BTC", ts_local=time.time_ns()),  # as every start asks
        PlaceOrders(orders=(order,), ts_local=time.time_ns()),
    )
    assert not [e for e in events if isinstance(e, OrderAccepted | OrderRejected)]
    assert harness.settled == [True]  # lost: settled from the venue
    wait_until(lambda: placements_handled(url, harness) == 1, timeout_s=15)
    handled_ns = time.time_ns()

    rests = account(url, harness)["open_orders"] == 1
    assert harness.gateway is not None
    counted = harness.gateway.unsettled.orders_at("BTC", handled_ns)
    assert not rests or counted == 1, "an order makerd had written off came to rest"


def test_the_dead_man_switch_fires_no_sooner_than_asked_on_a_host_behind_the_exchange(
    exchange_ahead: str,
) -> None:
    url = exchange_ahead
    harness = Harness(url, clock=time.time_ns)
    order = resting_bid(url, 32)
    now = time.time_ns()

    harness.run(
        RequestAccountSnapshot(coin="BTC", ts_local=now),
        PlaceOrders(orders=(order,), ts_local=now),
        ArmDeadManSwitch(cancel_at_ns=now + 10 * NS_PER_S, ts_local=now),
    )
    assert harness.dead_man.armed
    assert account(url, harness)["open_orders"] == 1

    # 8 s on (the watchdog re-arms a 10 s switch after two thirds of it): the order rests.
    wait_until(lambda: time.time_ns() >= now + 8 * NS_PER_S, timeout_s=15, step_s=0.2)
    assert account(url, harness)["open_orders"] == 1


@pytest.fixture
def exchange_in_step() -> Iterator[str]:
    yield from venue_skewed(0.0, seed=25)


def test_a_forward_step_of_the_host_clock_does_not_write_off_a_placement_in_doubt(
    exchange_in_step: str,
) -> None:
    url = exchange_in_step
    step_ns = 0

    def host_clock() -> int:
        return time.time_ns() + step_ns

    harness = Harness(url, posts_url=url, post_timeout_s=0.5, clock=host_clock)
    order = resting_bid(url, 33)
    fault(url, {"delay_exchange_s": 3.0})  # it rests 3 s after it arrives; lost at 0.5 s
    harness.run(
        RequestAccountSnapshot(coin="BTC", ts_local=host_clock()),
        PlaceOrders(orders=(order,), ts_local=host_clock()),
    )

    step_ns = 10 * NS_PER_S  # NTP steps the host's clock 10 s forward
    assert harness.gateway is not None
    counted = harness.gateway.unsettled.orders_at("BTC", host_clock())
    wait_until(lambda: placements_handled(url, harness) == 1, timeout_s=10)

    assert account(url, harness)["open_orders"] == 1  # it did come to rest
    assert counted == 1, "a listing after the step would have settled it as absent"
