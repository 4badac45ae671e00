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
from makerd.protocol.orders import CancelReason, SweepOrders
from makerd.venues.base import ProcessVenue

log = logging.getLogger("makerd")
_BETWEEN_ROUNDS_S = 0.25
_ANSWER_WAIT_S = 4.0
"""How long one question may stay unanswered before it is asked again (a lost request)."""
_POLL_S = 0.05
_NEVER = threading.Event()
"""Never set: what hurries the first round of a stop's sweep."""


def confirm_every_coin(
    *,
    venue: ProcessVenue,
    observers: Mapping[str, Observer],
    clock: Clock,
    deadline_s: float,
    give_up: threading.Event,
) -> int | None:
    """Sweep until the venue reports no open orders for any coin; the sum of what it still
    lists (None: some coin's question was never answered).

    Each round is one :class:`SweepOrders` for every coin not yet confirmed: the venue
    cancels whatever it lists and reports what is left, so a venue that lists a whole
    account asks once a round, not once a coin (the answers wait for the same request
    budget). A round unanswered for :data:`_ANSWER_WAIT_S` (a lost request) is asked
    again. ``give_up`` (a second stop signal) ends the wait once the first round is
    answered (or unanswered for :data:`_ANSWER_WAIT_S`): one that came before it once sent
    no sweep at all, and an order makerd did not know of was left resting.
    """
    deadline = time.monotonic() + deadline_s
    counts: dict[str, int | None] = dict.fromkeys(observers)
    # A coin's answer counts if the venue listed it since the stop's first question (or
    # since the last listing that still showed orders), whichever round asked for it: on a
    # spent budget every answer outlasts its round, and counting only the newest round's
    # ended a stop whose venue had confirmed 0 open orders with exit 82.
    since: dict[str, int] = {}
    unconfirmed = set(observers)
    hurry = _NEVER
    while unconfirmed and not hurry.is_set() and time.monotonic() < deadline:
        asked_ns = clock.now_ns()
        for coin in unconfirmed:
            since.setdefault(coin, asked_ns)
        coins = tuple(sorted(unconfirmed))
        venue.submit(SweepOrders(coins=coins, reason=CancelReason.SHUTDOWN, ts_local=asked_ns))
        round_ends = min(deadline, time.monotonic() + _ANSWER_WAIT_S)
        waiting = set(unconfirmed)
        while waiting and not hurry.is_set() and time.monotonic() < round_ends:
            for coin in sorted(waiting):
                seen = observers[coin].venue_open_orders_since(since[coin])
                if seen is None:
                    continue
                count, listed_ns = seen
                counts[coin] = count
                waiting.discard(coin)
                if count == 0:
                    unconfirmed.discard(coin)
                else:
                    since[coin] = listed_ns + 1  # orders listed: only a newer listing may say 0
            if waiting:
                hurry.wait(_POLL_S)
        hurry = give_up
        if unconfirmed:
            # Orders may be on their way (an answer not in yet): time to land or expire.
            hurry.wait(_BETWEEN_ROUNDS_S)
    for coin, said in counts.items():
        log.info("event=open_orders_at_stop coin=%s venue_open_orders=%s", coin, said)
    if any(count is None for count in counts.values()):
        return None
    return sum(count for count in counts.values() if count is not None)


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
        give_up.wait(_POLL_S)


def left_open(
    booked_open: Mapping[str, Decimal], observers: Mapping[str, Observer], *, since_ns: int
) -> dict[str, Decimal]:
    """The positions a flatten left open: each coin's venue reading since ``since_ns`` where
    there is one (it may be flat while a closing fill is still on its way to the books, or
    open while the books say flat), else the booked position in ``booked_open``."""
    left = {}
    for coin, observer in observers.items():
        venue = observer.venue_position_since(since_ns)
        position = booked_open.get(coin, Decimal(0)) if venue is None else venue
        if position != 0:
            left[coin] = position
    return left


def wait_until_booked(
    *,
    observers: Mapping[str, Observer],
    since_ns: int,
    deadline_s: float,
    give_up: threading.Event,
) -> dict[str, tuple[Decimal, Decimal | None]]:
    """Once no order rests, wait until each coin's booked position is the venue's (a fill
    still on its way, or repaired after a mismatch); those that never agreed, booked and
    venue (None: no position reported since ``since_ns``).

    A stop that ended before its last fills were booked left the session's summary and
    journal with a position the venue did not hold.
    """
    deadline = time.monotonic() + deadline_s
    while True:
        apart = {
            coin: (booked, venue)
            for coin, observer in observers.items()
            if (venue := observer.venue_position_since(since_ns))
            != (booked := observer.snapshot().position)
        }
        if not apart or give_up.is_set() or time.monotonic() >= deadline:
            return apart
        give_up.wait(_POLL_S)
