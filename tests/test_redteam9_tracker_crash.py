"""Several coins live: the one fill tracker every coin shares crashes again and again
while a taker fills two coins' orders. Each restart rebuilds every coin from the journal
and repairs from the venue: every fill booked once, each coin's position the venue's."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.processes import MakerdProcess
from tests.test_hl_live_e2e import fault, wait_until
from tests.test_redteam9_kill_coins import (
    SWEPT,
    BookedBasket,
    assert_booked_once_per_coin,
    wait_booked,
)


def _restarted(makerd: MakerdProcess, times: int) -> bool:
    return makerd.text.count("event=child_restarted") >= times


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=47, tick_interval_s=0.1))
    yield venue.start()
    venue.stop()


def test_fills_of_two_coins_around_fill_tracker_crashes_are_booked_once(
    tmp_path: Path, venue_url: str
) -> None:
    trader = BookedBasket(
        tmp_path,
        venue_url,
        faults={"crash_role": "fill_tracker", "crash_every_s": 0.7},
        hyperliquid={"api_url": venue_url},  # fault drills only against a loopback venue
        supervisor={"max_restarts": 100, "period_s": 60},
    )
    makerd = trader.start(tmp_path)
    wait_until(lambda: min(trader.resting()[c] for c in SWEPT) >= 2, timeout_s=40, process=makerd)

    for side, restarts in (("buy", 2), ("sell", 4)):
        wait_until(partial(_restarted, makerd, restarts), timeout_s=20, process=makerd)
        for coin in SWEPT:
            fault(venue_url, {"sweep": {"user": trader.address, "side": side, "coin": coin}})
        wait_until(
            lambda: min(trader.resting()[c] for c in SWEPT) >= 2, timeout_s=20, process=makerd
        )
    wait_booked(trader, makerd)
    makerd.signal(signal.SIGTERM)
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text[-3000:]
    assert_booked_once_per_coin(trader, makerd.text)
