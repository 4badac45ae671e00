"""A second stop signal on the heels of the first, on makerd in live mode (local venue)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK, EXIT_ORDERS_LEFT
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_hl_live_e2e import Trader, order_ids, resting
from tests.test_redteam5_ops_ready import an_orphan


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    thread = VenueThread(VenueConfig(port=0, auto_provision=True, seed=31, tick_interval_s=0.1))
    thread.start()
    yield thread
    thread.stop()


def test_sigint_then_sigterm_still_sweeps_the_venue_once_and_says_what_it_confirmed(
    tmp_path: Path, venue: VenueThread
) -> None:
    trader = Trader(tmp_path, venue.url, dead_man_s=0)  # no dead-man switch to clean up
    makerd = trader.start(tmp_path)
    resting(trader, makerd)
    # Placed by someone else while makerd quotes: only the stop's sweep cancels it.
    stranger = an_orphan(trader)

    # Two different signals, so the kernel cannot merge them into one: the second says
    # "hurry up": wait no longer than the sweep's first answer.
    makerd.signal(signal.SIGINT)
    makerd.signal(signal.SIGTERM)
    code = makerd.finish()

    # The first round's answer is all it waits for: 0 if the venue said so, or 82 when
    # a quote still on its way kept the venue's count from reading 0.
    confirmed = "venue confirms 0 open orders" in makerd.text
    assert (code, confirmed) in {(EXIT_OK, True), (EXIT_ORDERS_LEFT, False)}, makerd.text
    assert stranger not in order_ids(trader), "the sweep never went out"
    assert not confirmed or trader.open_orders() == []
