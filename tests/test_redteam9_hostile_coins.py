"""Several coins live: the venue mixes hostile frames into the user stream while a taker
fills two coins' orders. Every hostile frame is counted and dropped, no handler fails,
and every real fill is booked once, for its own coin."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_frame_boundary_e2e import _scrape
from tests.test_hl_live_e2e import fault, wait_until
from tests.test_redteam9_kill_coins import (
    SWEPT,
    BookedBasket,
    assert_booked_once_per_coin,
    wait_booked,
)

HOSTILE = 120


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=41, tick_interval_s=0.1))
    yield venue.start()
    venue.stop()


def _malformed(venue_url: str) -> dict[str, object]:
    report: dict[str, object] = requests.get(f"{venue_url}/_debug/malformed", timeout=5).json()
    return report


def test_hostile_user_frames_among_two_coins_fills_are_dropped_and_the_fills_booked_once(
    tmp_path: Path, venue_url: str
) -> None:
    trader = BookedBasket(tmp_path, venue_url)
    makerd = trader.start(tmp_path)
    port = makerd.metrics_port()
    wait_until(lambda: min(trader.resting()[c] for c in SWEPT) >= 2, timeout_s=40, process=makerd)

    spec: dict[str, int | str] = {"count": HOSTILE, "stream": "user", "every_ms": 40}
    armed = requests.post(f"{venue_url}/_debug/faults", json={"malformed_frames": spec}, timeout=5)
    for coin in SWEPT:
        fault(venue_url, {"sweep": {"user": trader.address, "side": "buy", "coin": coin}})
    wait_until(lambda: _malformed(venue_url)["pending"] == 0, timeout_s=30, process=makerd)
    wait_booked(trader, makerd)
    wait_until(lambda: sum(_scrape(port).values()) >= HOSTILE, timeout_s=20, process=makerd)
    dropped = _scrape(port)
    makerd.signal(signal.SIGTERM)
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text[-3000:]
    assert armed.json()["malformed_to_send"] == HOSTILE
    assert dropped.get("handler_error", 0) == 0, dropped
    assert "Traceback" not in makerd.text
    assert_booked_once_per_coin(trader, makerd.text)
