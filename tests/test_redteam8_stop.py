"""A stop whose venue answers slower than a round of its sweep.

A sweep's report carries the time its listing arrived, which on a spent request budget is
seconds before the report itself (the other perp dex's listing and the positions wait for
budget after it). The stop asks again every 4 s, and it used to count only a listing made
after its newest question: each answer was older than the round that was waiting, so a
venue that said "0 open orders" within 5 s got an exit 82 after the whole deadline.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from makerd.daemon.shutdown import confirm_every_coin
from makerd.protocol.clock import WallClock
from makerd.protocol.orders import (
    CancelOrders,
    CancelReason,
    OpenOrdersReported,
    PlaceOrders,
    SweepOrders,
    VenueCommand,
)
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.test_coins_live import COINS, BasketTrader
from tests.test_hl_gateway import Harness, resting_bid
from tests.test_hl_live_e2e import fault, wait_until
from tests.test_stop_confirmation import BudgetBoundVenue, observer

LISTED_AFTER_S = 0.01
REPORTED_AFTER_S = 5.0
"""Longer than a round (4 s): the listing leaves at once, the report waits for budget."""


class SlowSweepVenue(BudgetBoundVenue):
    """Answers each sweep "no orders" after :data:`REPORTED_AFTER_S`, stamped with the
    time its listing arrived, as the live venue stamps it."""

    def submit(self, command: VenueCommand) -> None:
        if isinstance(command, SweepOrders):
            self.questions.append(command.coins)
            listed_ns = self._clock.now_ns() + int(LISTED_AFTER_S * 1e9)
            timer = threading.Timer(REPORTED_AFTER_S, self._listed, args=(command, listed_ns))
            self._timers.append(timer)
            timer.start()

    def _listed(self, command: SweepOrders, listed_ns: int) -> None:
        for coin in command.coins:
            report = OpenOrdersReported(
                coin=coin, orders=(), ts_exchange=listed_ns, ts_local=listed_ns
            )
            self._observers[coin](report)


def test_a_sweep_answered_after_its_round_ended_still_confirms_the_coins() -> None:
    clock = WallClock()
    observers = {coin: observer(clock, coin) for coin in ("BTC", "ETH", "xyz:TSLA")}
    venue = SlowSweepVenue(observers, clock)

    remaining = confirm_every_coin(
        venue=venue, observers=observers, clock=clock, deadline_s=12.0, give_up=threading.Event()
    )
    venue.stop()

    assert remaining == 0, "the venue listed nothing after the stop began"
    assert len(venue.questions) == 2, "confirmed by the first answer, during the second round"


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=28, tick_interval_s=0.1))
    yield venue.start()
    venue.stop()


def test_three_coins_stop_with_exit_0_when_each_account_query_takes_two_and_a_half_seconds(
    tmp_path: Path, venue_url: str
) -> None:
    # A sweep of three coins on two perp dexes asks four queries in turn (two listings, two
    # positions): its report comes 10 s after the question, listed 2.5 s and 5 s after it.
    trader = BasketTrader(tmp_path, venue_url, stop_timeout_s=30)
    makerd = trader.start(tmp_path)
    wait_until(lambda: min(trader.resting().values()) >= 1, timeout_s=60, process=makerd)

    fault(venue_url, {"delay_info_s": 2.5, "delay_for_s": 40})
    makerd.signal(signal.SIGTERM)
    code = makerd.finish(timeout=60)
    fault(venue_url, {"clear": True})

    assert code == EXIT_OK, makerd.text[-3000:]
    assert "venue confirms 0 open orders" in makerd.text
    assert trader.resting() == dict.fromkeys(COINS, 0)


def test_a_sweep_counts_an_order_cancelled_under_it_as_gone(venue_url: str) -> None:
    # The stop's first moves: each order_manager cancels its orders by cloid while the
    # sweep lists the account. The listing can come first; the sweep's own cancel of that
    # order then reads "already canceled", which is the venue saying it rests no more.
    # Counted as still listed, it cost the stop one more sweep of every coin.
    harness = Harness(venue_url, clock=time.time_ns)
    order = resting_bid(venue_url, 0x805)
    harness.run(PlaceOrders(orders=(order,), ts_local=time.time_ns()))
    fault(venue_url, {"delay_exchange_s": 0.5, "delay_for_s": 5})
    cancel = CancelOrders(cloids=(order.cloid,), reason=CancelReason.SHUTDOWN, ts_local=0)
    sweep = SweepOrders(coins=("BTC",), reason=CancelReason.SHUTDOWN, ts_local=0)
    already = len(harness.emitted)

    try:
        events = harness.run(cancel, sweep, together=True)[already:]
    finally:
        fault(venue_url, {"clear": True})

    [swept] = [e for e in events if isinstance(e, OpenOrdersReported)]
    assert (swept.orders, swept.unsettled_orders) == ((), 0), "the venue rests nothing"
