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
_FROZEN_AFTER_S = 1.0
"""A poll that returns this much later than asked was not polling: the process was frozen."""
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
    again, and keeps its start: any listing since then answers it. Once each re-ask
    counted only listings after itself, and on a spent budget, where a listing waits
    seconds for the refill, every answer came just too old until the stop ran out of
    time. ``give_up`` (a second stop signal) ends the wait once the first round is
    answered (or unanswered for :data:`_ANSWER_WAIT_S`): one that came before it once
    sent no sweep at all, and an order makerd did not know of was left resting.

    The deadline counts only time the stop could run (:class:`_RunningTime`): a stop
    frozen (SIGSTOP, a paused VM) with its listing in flight found on resume that the
    listing had timed out and its own deadline had passed, and exited 82 without asking
    the venue again. Its question is asked again at once after a freeze.
    """
    running = _RunningTime()
    deadline = running.now() + deadline_s
    answers = _Answers(observers)
    hurry = _NEVER
    while answers.unconfirmed and not hurry.is_set() and running.now() < deadline:
        # A listing since the round began follows the last round's cancels.
        round_ns, round_mono = clock.now_ns(), time.monotonic_ns()
        waiting = set(answers.unconfirmed)
        while waiting and not hurry.is_set() and running.now() < deadline:
            coins = tuple(sorted(waiting))
            venue.submit(SweepOrders(coins=coins, reason=CancelReason.SHUTDOWN, ts_local=round_ns))
            ask_again = min(deadline, running.now() + _ANSWER_WAIT_S)
            asked_before = running.freezes  # what is in flight through a freeze times out
            while (
                waiting
                and not hurry.is_set()
                and running.now() < ask_again
                and running.freezes == asked_before
            ):
                answers.take(waiting, listed_since=(round_ns, round_mono))
                if waiting:
                    hurry.wait(_POLL_S)
            hurry = give_up
        if answers.unconfirmed:
            # Orders may be on their way (an answer not in yet): time to land or expire.
            hurry.wait(_BETWEEN_ROUNDS_S)
    return answers.total()


class _RunningTime:
    """Seconds on the monotonic clock, less the gaps in which the caller could not run."""

    def __init__(self) -> None:
        self._last = time.monotonic()
        self._frozen_s = 0.0
        self.freezes = 0
        """Gaps found so far between two readings."""

    def now(self) -> float:
        real = time.monotonic()
        if real - self._last > _FROZEN_AFTER_S:
            self._frozen_s += real - self._last
            self.freezes += 1
        self._last = real
        return real - self._frozen_s


class _Answers:
    """Each coin's last count of open orders from the venue during a stop."""

    def __init__(self, observers: Mapping[str, Observer]) -> None:
        self._observers = observers
        self._counts: dict[str, int | None] = dict.fromkeys(observers)
        self.unconfirmed = set(observers)
        """Coins whose last answer was not 0 (or that have none yet)."""

    def take(self, waiting: set[str], *, listed_since: tuple[int, int]) -> None:
        """The answers listed since ``listed_since`` (wall, monotonic) of the coins in
        ``waiting``; a coin answered leaves ``waiting``, and leaves :attr:`unconfirmed`
        when it has none."""
        for coin in sorted(waiting):
            count = self._observers[coin].venue_open_orders_since(*listed_since)
            if count is None:
                continue
            self._counts[coin] = count
            waiting.discard(coin)
            if count == 0:
                self.unconfirmed.discard(coin)

    def total(self) -> int | None:
        """What the venue still lists in all (None: some coin was never answered)."""
        for coin, count in self._counts.items():
            log.info("event=open_orders_at_stop coin=%s venue_open_orders=%s", coin, count)
        if any(count is None for count in self._counts.values()):
            return None
        return sum(count for count in self._counts.values() if count is not None)


def wait_until_flat(
    *,
    observers: Mapping[str, Observer],
    since_ns: int,
    deadline_s: float,
    give_up: threading.Event,
) -> dict[str, Decimal]:
    """After a stop that flattens: wait while the closing orders work (the order_manager
    sends another when one leaves a remainder); the coins whose position is still open.
    A coin whose flatten gave up since ``since_ns`` (every closing order it may was sent)
    is waited for no longer: nothing more will be sent for it."""
    deadline = time.monotonic() + deadline_s
    while True:
        snapshots = {coin: observer.snapshot() for coin, observer in observers.items()}
        still_open = {coin: s.position for coin, s in snapshots.items() if s.position != 0}
        closing = [coin for coin in still_open if snapshots[coin].flatten_gave_up_ns < since_ns]
        ended = _why_flat_wait_ends(still_open, closing, give_up, deadline)
        if ended is not None:
            log.info("event=flat_wait_ended reason=%s still_open=%d", ended, len(still_open))
            return still_open
        give_up.wait(_POLL_S)


def _why_flat_wait_ends(
    still_open: Mapping[str, Decimal], closing: list[str], give_up: threading.Event, deadline: float
) -> str | None:
    if not still_open:
        return "flat"
    if not closing:
        return "gave_up"
    if give_up.is_set():
        return "second_stop"
    return "timeout" if time.monotonic() >= deadline else None


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
