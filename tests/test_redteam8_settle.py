"""A lost answer settles every coin with one listing per perp dex, not one per coin.

The live venue object (``HyperliquidVenue``) against the local venue, with three coins on
two perp dexes: its questions after an answer that never came used to be asked coin by
coin, each paying for its own listing, on a budget that three coins already share.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from eth_account import Account

from makerd.config.loader import parse_config
from makerd.protocol.clock import WallClock
from makerd.protocol.orders import OpenOrdersReported, PlaceOrders
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.venue import HyperliquidVenue
from tests.test_hl_gateway import resting_bid
from tests.test_hl_live_e2e import fault, wait_until

COINS = ("BTC", "ETH", "xyz:TSLA")


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=9, tick_interval_s=0.2))
    yield venue.start()
    venue.stop()


class Reports:
    """What the venue object emitted (from its I/O thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open_orders: list[OpenOrdersReported] = []

    def __call__(self, event: object) -> None:
        if isinstance(event, OpenOrdersReported):
            with self._lock:
                self.open_orders.append(event)

    def count(self) -> int:
        with self._lock:
            return len(self.open_orders)


def quiet(venue: HyperliquidVenue) -> None:
    """Until the start's own repairs are done: no weight spent for a second."""
    last = -1
    while venue.budget.weight_spent != last:
        last = venue.budget.weight_spent
        threading.Event().wait(1.0)


def test_a_lost_answer_settles_three_coins_with_one_listing_per_perp_dex(venue_url: str) -> None:
    config = parse_config(
        {"mode": "live", "coins": list(COINS), "hyperliquid": {"api_url": venue_url}},
        source="test",
    )
    env = {"MAKERD_PRIVATE_KEY": Account.create().key.hex()}
    venue = HyperliquidVenue(config, clock=WallClock(), env=env)
    reports = Reports()
    venue.start(reports)
    try:
        quiet(venue)
        spent, already = venue.budget.weight_spent, reports.count()
        fault(venue_url, {"reset_next": 1, "paths": ["exchange"]})

        venue.submit(PlaceOrders(orders=(resting_bid(venue_url, 0x806),), ts_local=time.time_ns()))
        wait_until(lambda: reports.count() >= already + len(COINS), timeout_s=20)
        settled = venue.budget.weight_spent - spent
    finally:
        venue.stop()

    assert sorted(r.coin for r in reports.open_orders[already:]) == sorted(COINS)
    # The order action (1), then per perp dex one listing (20) and one position (2).
    assert settled == 1 + 2 * (20 + 2), settled
