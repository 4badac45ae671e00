"""The stop's confirmation after a step back of the host's wall clock.

The stop sweeps the venue and waits for a listing asked since the sweep began. Listings
were ordered by the wall clock they were asked on, so after a step back the last one
asked before the step read as newer than every one after it, for the step's length: the
stop took its stale count for the venue's answer. A count of 0 confirmed "no order left"
without asking; a count of the resting ladder kept the stop sweeping to its deadline and
it exited 82 with "may still hold 5 orders" over an empty book
(``tests/faults/test_clock_steps.py`` against the local venue). Listings are now ordered
by the monotonic time they were asked (``OpenOrdersReported.asked_mono_ns``).
"""

from __future__ import annotations

import threading
import time

from prometheus_client import CollectorRegistry

from makerd.daemon.metrics import Metrics
from makerd.daemon.observer import Observer
from makerd.daemon.shutdown import confirm_every_coin
from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import (
    OpenOrder,
    OpenOrdersReported,
    SweepOrders,
    VenueCommand,
)
from makerd.protocol.side import Side
from makerd.venues.base import EventSink
from tests.kit import BTC, d

STEP_NS = 60 * 1_000_000_000


class HostClock:
    """The host's wall clock, ``step_ns`` from the real time (NTP may step it)."""

    def __init__(self, step_ns: int) -> None:
        self.step_ns = step_ns

    def now_ns(self) -> int:
        return time.time_ns() + self.step_ns


def listing(clock: HostClock, resting: int) -> OpenOrdersReported:
    """The venue's listing of ``resting`` bids, asked now by both of the host's clocks."""
    orders = tuple(
        OpenOrder(
            cloid=f"0x{i:032x}", venue_order_id=i, coin="BTC", side=Side.BUY,
            price=d(60_000 - i), size=d("0.01"),
        )
        for i in range(resting)
    )  # fmt: skip
    now = clock.now_ns()
    return OpenOrdersReported(
        coin="BTC", orders=orders, ts_exchange=now, ts_local=now, asked_mono_ns=time.monotonic_ns()
    )


class SweptVenue:
    """Answers each sweep 50 ms later with a listing of what it still holds."""

    def __init__(self, observer: Observer, clock: HostClock, *, left: int) -> None:
        self._observer = observer
        self._clock = clock
        self._left = left

    @property
    def instrument(self) -> Instrument:
        return BTC

    @property
    def account_id(self) -> str | None:
        return None

    def start(self, sink: EventSink) -> None:
        pass

    def submit(self, command: VenueCommand) -> None:
        if isinstance(command, SweepOrders):
            answer = threading.Timer(0.05, self._answer)
            answer.daemon = True
            answer.start()

    def _answer(self) -> None:
        self._observer(listing(self._clock, self._left))

    def stop(self, *, orders_confirmed_gone: bool = True) -> None:
        pass


def stop_after_step(*, listed_before: int, left: int) -> int | None:
    """A fast host lists ``listed_before`` orders, is put right (a step back of a minute),
    then stops over a venue that still holds ``left``: what the stop says is left."""
    clock = HostClock(STEP_NS)
    observer = Observer(
        metrics=Metrics(CollectorRegistry(), venue="live", symbol="BTC", process_collectors=False),
        clock=clock,
    )
    observer(listing(clock, listed_before))
    clock.step_ns = 0
    return confirm_every_coin(
        venue=SweptVenue(observer, clock, left=left),
        observers={"BTC": observer},
        clock=clock,
        deadline_s=1.5,
        give_up=threading.Event(),
    )


def test_a_stop_after_a_step_back_is_confirmed_by_its_own_sweep() -> None:
    assert stop_after_step(listed_before=6, left=0) == 0, "the stale 6 outlived the sweep"


def test_a_stop_after_a_step_back_never_takes_a_stale_empty_listing_for_its_answer() -> None:
    assert stop_after_step(listed_before=0, left=2) == 2, "0 confirmed with 2 resting"
