"""Red team 11: makerd in live mode, as a real process, on a host whose clock reads a
minute ahead of the exchange's (the local venue's clock set 60 s behind the host's).

Before, the feed was judged by the gap between the two clocks: the stale-feed kill switch
latched a second after the start ("no market data for 60.1s", exit 80) on a feed that
was fine; with that mended, the first minute's fills were stamped before the journal's
start and not booked. Now it quotes, books every fill, and stops with nothing resting.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_hl_live_e2e import Trader, quote_until_filled_and_stop


@pytest.fixture
def venue_a_minute_behind() -> Iterator[str]:
    venue = VenueThread(
        VenueConfig(port=0, auto_provision=True, seed=24, tick_interval_s=0.1, clock_offset_s=-60.0)
    )
    yield venue.start()
    venue.stop()


def test_a_host_a_minute_ahead_of_the_exchange_quotes_books_every_fill_and_stops_clean(
    tmp_path: Path, venue_a_minute_behind: str
) -> None:
    makerd = quote_until_filled_and_stop(Trader(tmp_path, venue_a_minute_behind), tmp_path)

    assert "kill_switch_tripped" not in makerd.text
