"""Several coins live: the user stream dropped while two coins' orders fill, bare and with
the venue rate limiting every request (by IP) over the repair that follows. Each fill is
booked once, for its own coin, and each coin's journal position is the venue's."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_hl_live_e2e import fault, wait_until
from tests.test_redteam9_kill_coins import (
    SWEPT,
    BookedBasket,
    assert_booked_once_per_coin,
    wait_booked,
)


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=31, tick_interval_s=0.1))
    yield venue.start()
    venue.stop()


def _sweep_both_while_the_stream_is_down(
    tmp_path: Path, venue_url: str, **limit: object
) -> tuple[BookedBasket, str]:
    """Quote, drop the user stream (with ``limit`` armed with it), sweep two coins; stop
    once the journal holds the swept fills. The trader and what makerd printed."""
    trader = BookedBasket(tmp_path, venue_url)
    makerd = trader.start(tmp_path)
    wait_until(lambda: min(trader.resting()[c] for c in SWEPT) >= 2, timeout_s=40, process=makerd)

    fault(venue_url, {"drop_stream": "user", **limit})
    for coin in SWEPT:
        fault(venue_url, {"sweep": {"user": trader.address, "side": "buy", "coin": coin}})
    # The test's own reads are refused while an IP limit holds: a timed wait, not a sleep.
    threading.Event().wait(float(str(limit.get("rate_limit_for_s", 0))))
    swept = trader.venue_trades()
    assert all(swept[coin] for coin in SWEPT), swept
    wait_booked(trader, makerd)
    makerd.signal(signal.SIGTERM)
    assert makerd.finish() == EXIT_OK, makerd.text
    return trader, makerd.text


def test_two_coins_fills_made_while_the_user_stream_is_down_are_booked_once(
    tmp_path: Path, venue_url: str
) -> None:
    trader, output = _sweep_both_while_the_stream_is_down(tmp_path, venue_url)

    assert_booked_once_per_coin(trader, output)
    # Found by whichever repair came first: a position report's mismatch, or the reconnect.
    assert "event=ws_disconnected stream=user" in output


def test_an_ip_rate_limit_over_the_reconnects_repair_delays_the_fills_but_loses_none(
    tmp_path: Path, venue_url: str
) -> None:
    trader, output = _sweep_both_while_the_stream_is_down(
        tmp_path, venue_url, rate_limit_for_s=3.0, rate_limit_kind="ip"
    )

    assert_booked_once_per_coin(trader, output)
    assert "event=gap_repair_failed" in output  # the limit was over the repair
