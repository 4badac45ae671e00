"""Confirming with the venue that nothing is left open before the process goes away."""

from __future__ import annotations

import threading
import time

from makerd.observer import Observer
from protocol.clock import Clock
from protocol.orders import CancelAll, CancelReason, RequestAccountSnapshot
from venues.base import ProcessVenue


def confirm_no_open_orders(
    *,
    venue: ProcessVenue,
    observer: Observer,
    coin: str,
    clock: Clock,
    deadline_s: float,
    give_up: threading.Event,
) -> int:
    """Ask the venue until it reports no open orders; return how many it still holds.

    Each round that still finds orders repeats the cancel-all. ``give_up`` (a second stop
    signal) ends the wait at once: the cancels are already on their way. -1 means the
    venue never answered.
    """
    deadline = time.monotonic() + deadline_s
    remaining = -1
    while time.monotonic() < deadline and not give_up.is_set():
        observer.expect_venue_report()
        venue.submit(RequestAccountSnapshot(coin=coin, ts_local=clock.now_ns()))
        if observer.venue_report.wait(1.0):
            remaining = observer.snapshot().venue_open_orders or 0
            if remaining == 0:
                return 0
        venue.submit(CancelAll(coin=coin, reason=CancelReason.SHUTDOWN, ts_local=clock.now_ns()))
    return remaining
