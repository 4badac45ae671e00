"""Red team, several coins live: a halted coin's orders and the stop's sweep, under venue faults."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_coins_live import COINS, BasketTrader
from tests.test_hl_live_e2e import fault, wait_until


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=23, tick_interval_s=0.1))
    yield venue.start()
    venue.stop()


def restarts(trader: BasketTrader, role: str) -> int:
    """``role``'s restarts in the journal (0 while the journal is still being created)."""
    try:
        with sqlite3.connect(f"file:{trader.state / 'journal.sqlite'}?mode=ro", uri=True) as db:
            query = "SELECT COUNT(*) FROM restarts WHERE role = ?"
            (count,) = db.execute(query, (role,)).fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(count)


def test_a_halted_coins_orders_are_cancelled_when_the_first_listing_of_its_cancel_all_is_lost(
    tmp_path: Path, venue_url: str
) -> None:
    # ETH's order_manager crashes every 2 s; the third crash makes its supervisor give up.
    # Its orders must then be cancelled at the venue: nothing manages them any more, and
    # the market takes them as it moves. Before, a cancel-all whose listing was lost (a
    # reset connection) was logged (event=command_failed command=CancelAll) and never
    # asked again: ETH's quotes rested, unmanaged, until the stop.
    trader = BasketTrader(
        tmp_path,
        venue_url,
        faults={"crash_role": "order_manager:ETH", "crash_every_s": 2.0},
        hyperliquid={"api_url": venue_url},  # fault drills only against a loopback venue
        supervisor={"max_restarts": 2, "period_s": 60},
        watchdog={"dead_man_switch_s": 60.0},  # the venue's switch must not do it for us
    )
    makerd = trader.start(tmp_path)
    wait_until(lambda: restarts(trader, "order_manager:ETH") >= 2, timeout_s=40, process=makerd)
    wait_until(lambda: trader.resting()["ETH"] >= 2, timeout_s=5, process=makerd)
    fault(venue_url, {"reset_next": 100, "paths": ["info"]})  # every listing for a while
    try:
        makerd.wait_for(r"event=coin_halted coin=ETH", timeout=10)
        time.sleep(0.3)  # the cancel-all's first listing is reset
    finally:
        fault(venue_url, {"clear": True})

    wait_until(lambda: trader.resting()["ETH"] == 0, timeout_s=8, process=makerd)
    assert "event=cancel_all_retry coin=ETH" in makerd.text, "the fault missed the listing"
    assert min(trader.resting()[coin] for coin in ("BTC", "xyz:TSLA")) >= 2
    makerd.signal(signal.SIGTERM)
    assert makerd.finish() == EXIT_OK, makerd.text
    assert trader.resting() == dict.fromkeys(COINS, 0)
