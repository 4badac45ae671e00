"""Confirming with the venue that nothing is left open before the process goes away.

Only a venue report asked for *after* the stop counts: an older answer still in flight
may predate the cancels, and "0 open orders" is printed only when the venue said so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from decimal import Decimal

from makerd.daemon.observer import Observer
from makerd.protocol.clock import Clock
from makerd.protocol.orders import CancelAll, CancelReason, RequestAccountSnapshot
from makerd.venues.base import ProcessVenue

log = logging.getLogger("makerd")
_BETWEEN_ROUNDS_S = 0.25
_MIN_COIN_WAIT_S = 1.0
"""A coin asked after the others used up the deadline still gets one question."""
_ANSWER_WAIT_S = 4.0
"""How long one question may stay unanswered before it is asked again (a lost request)."""
_FLAT_POLL_S = 0.05


def confirm_no_open_orders(
    *,
    venue: ProcessVenue,
    observer: Observer,
    coin: str,
    clock: Clock,
    deadline_s: float,
    give_up: threading.Event,
) -> int | None:
    """Ask the venue until it reports no open orders; return how many it still lists.

    One question is outstanding at a time: asking faster than the venue answers only
    spends the request budget the answer needs. Each answer that still lists orders
    repeats the cancel-all. ``give_up`` (a second stop signal) ends the wait at once:
    the cancels are already on their way. ``None`` means the venue never answered a
    query asked after the stop.
    """
    deadline = time.monotonic() + deadline_s
    remaining: int | None = None
    while not give_up.is_set() and (left_s := deadline - time.monotonic()) > 0:
        asked_ns = clock.now_ns()
        observer.expect_venue_report()
        venue.submit(RequestAccountSnapshot(coin=coin, ts_local=asked_ns))
        answer = _fresh_count(observer, asked_ns, min(_ANSWER_WAIT_S, left_s))
        if answer is None:
            continue  # unanswered (a lost request): ask again
        remaining = answer
        if remaining == 0:
            return 0
        venue.submit(CancelAll(coin=coin, reason=CancelReason.SHUTDOWN, ts_local=clock.now_ns()))
        # Orders may be on their way (an answer not in yet): give them time to land or expire.
        give_up.wait(_BETWEEN_ROUNDS_S)
    return remaining


def confirm_every_coin(
    *,
    venue: ProcessVenue,
    observers: Mapping[str, Observer],
    clock: Clock,
    deadline_s: float,
    give_up: threading.Event,
) -> int | None:
    """:func:`confirm_no_open_orders` coin by coin within one deadline: the sum of what the
    venue still lists (None: some coin's question was never answered)."""
    until = time.monotonic() + deadline_s
    remaining: int | None = 0
    for coin, observer in observers.items():
        left = confirm_no_open_orders(
            venue=venue,
            observer=observer,
            coin=coin,
            clock=clock,
            deadline_s=max(until - time.monotonic(), _MIN_COIN_WAIT_S),
            give_up=give_up,
        )
        remaining = None if left is None or remaining is None else remaining + left
        log.info("event=open_orders_at_stop coin=%s venue_open_orders=%s", coin, left)
    return remaining


def _fresh_count(observer: Observer, asked_ns: int, wait_s: float) -> int | None:
    until = time.monotonic() + wait_s
    while (left := until - time.monotonic()) > 0:
        if observer.venue_report.wait(left):
            observer.venue_report.clear()
            count = observer.venue_open_orders_since(asked_ns)
            if count is not None:
                return count
    return None


def wait_until_flat(
    *, observers: Mapping[str, Observer], deadline_s: float, give_up: threading.Event
) -> dict[str, Decimal]:
    """After a stop that flattens: wait while the closing orders work (the order_manager
    sends another when one leaves a remainder); the coins whose position is still open."""
    deadline = time.monotonic() + deadline_s
    while True:
        still_open = {
            coin: position
            for coin, observer in observers.items()
            if (position := observer.snapshot().position) != 0
        }
        if not still_open or give_up.is_set() or time.monotonic() >= deadline:
            return still_open
        give_up.wait(_FLAT_POLL_S)
