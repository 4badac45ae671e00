"""The stop asks the venue about every coin at once, in one sweep: a slow answer (its
question waiting for the request budget) must not be paid once per coin."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry

from makerd.daemon import shutdown
from makerd.daemon.metrics import Metrics
from makerd.daemon.observer import Observer
from makerd.daemon.shutdown import confirm_every_coin, left_open, wait_until_booked
from makerd.protocol.account import PositionChanged, PositionReported
from makerd.protocol.clock import WallClock
from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import OpenOrdersReported, SweepOrders, VenueCommand
from makerd.venues.base import EventSink
from tests.kit import BTC

COINS = ("BTC", "ETH", "SOL")
ANSWER_AFTER_S = 2.5
"""Every question waits this long for the budget; the venue answers them side by side."""


class BudgetBoundVenue:
    """Answers each sweep, "no orders" for every coin it names, after :data:`ANSWER_AFTER_S`."""

    def __init__(self, observers: dict[str, Observer], clock: WallClock) -> None:
        self._observers = observers
        self._clock = clock
        self.questions: list[tuple[str, ...]] = []
        self._timers: list[threading.Timer] = []

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
            self.questions.append(command.coins)
            timer = threading.Timer(ANSWER_AFTER_S, self._answer, args=(command.coins,))
            self._timers.append(timer)
            timer.start()

    def _answer(self, coins: tuple[str, ...]) -> None:
        now = self._clock.now_ns()
        for coin in coins:
            report = OpenOrdersReported(coin=coin, orders=(), ts_exchange=now, ts_local=now)
            self._observers[coin](report)

    def stop(self, *, orders_confirmed_gone: bool = True) -> None:
        for timer in self._timers:
            timer.cancel()


def observer(clock: WallClock, coin: str) -> Observer:
    return Observer(
        metrics=Metrics(CollectorRegistry(), venue="live", symbol=coin, process_collectors=False),
        clock=clock,
    )


def test_three_coins_whose_answers_each_take_most_of_the_deadline_are_all_confirmed() -> None:
    clock = WallClock()
    observers = {coin: observer(clock, coin) for coin in COINS}
    venue = BudgetBoundVenue(observers, clock)

    remaining = confirm_every_coin(
        venue=venue,
        observers=observers,
        clock=clock,
        deadline_s=2 * ANSWER_AFTER_S,
        give_up=threading.Event(),
    )
    venue.stop()

    assert remaining == 0, "one coin after another would run out of time at the second"
    assert venue.questions == [tuple(sorted(COINS))], "one question for every coin"


class ListedBeforeItIsHeardVenue(BudgetBoundVenue):
    """Lists each sweep :data:`LISTED_AFTER_S` after the question, and its answer reaches
    the stop :data:`HEARD_AFTER_S` after it: the question was asked again in between (a
    position read after the cancels, on a spent budget, takes that long)."""

    def submit(self, command: VenueCommand) -> None:
        if isinstance(command, SweepOrders):
            self.questions.append(command.coins)
            listed_ns = self._clock.now_ns() + int(LISTED_AFTER_S * 1e9)
            timer = threading.Timer(HEARD_AFTER_S, self._heard, args=(command.coins, listed_ns))
            self._timers.append(timer)
            timer.start()

    def _heard(self, coins: tuple[str, ...], listed_ns: int) -> None:
        for coin in coins:
            report = OpenOrdersReported(
                coin=coin, orders=(), ts_exchange=listed_ns, ts_local=listed_ns
            )
            self._observers[coin](report)


LISTED_AFTER_S = 0.3
HEARD_AFTER_S = 0.5


def test_a_question_asked_again_still_takes_the_answer_listed_since_its_round_began(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Asked again every 0.4 s, each answer listed 0.3 s after its question and heard 0.5 s
    # after it: when each re-ask counted only listings after itself, every answer was too
    # old and the stop ran out of time with the orders cancelled (exit 82).
    monkeypatch.setattr(shutdown, "_ANSWER_WAIT_S", 0.4)
    clock = WallClock()
    observers = {coin: observer(clock, coin) for coin in COINS}
    venue = ListedBeforeItIsHeardVenue(observers, clock)

    remaining = confirm_every_coin(
        venue=venue, observers=observers, clock=clock, deadline_s=3.0, give_up=threading.Event()
    )
    venue.stop()

    assert remaining == 0
    assert len(venue.questions) == 2, "confirmed by the first answer, heard after one re-ask"


def test_a_listing_asked_before_the_stop_and_heard_after_it_began_confirms_nothing() -> None:
    # A fills repair's listing, asked before the stop, says "nothing open" once the stop
    # has begun: an order placed after it was asked may rest all the same. Taken by when
    # it was heard, it ended the stop with "0 open orders" before any sweep had listed.
    clock = WallClock()
    observers = {"BTC": observer(clock, "BTC")}
    venue = BudgetBoundVenue(observers, clock)  # its sweep's answer comes too late
    asked_ns = clock.now_ns()
    heard = threading.Timer(
        0.2,
        lambda: observers["BTC"](
            OpenOrdersReported(coin="BTC", orders=(), ts_exchange=asked_ns, ts_local=clock.now_ns())
        ),
    )
    heard.start()

    remaining = confirm_every_coin(
        venue=venue, observers=observers, clock=clock, deadline_s=1.0, give_up=threading.Event()
    )
    heard.join()
    venue.stop()

    assert remaining is None, "no listing asked since the stop began has answered"


def booked(coin: str, size: str, at_ns: int) -> PositionChanged:
    zero = Decimal(0)
    return PositionChanged(
        coin=coin,
        position=Decimal(size),
        average_entry=zero,
        realized_pnl=zero,
        unrealized_pnl=zero,
        fees_paid=zero,
        mark=zero,
        ts_local=at_ns,
    )


def at_venue(coin: str, size: str, at_ns: int, *, read_ns: int | None = None) -> PositionReported:
    """The venue's answer arriving at ``at_ns``; it read the position at ``read_ns``."""
    return PositionReported(
        coin=coin,
        position=Decimal(size),
        average_entry=Decimal(0),
        ts_exchange=at_ns if read_ns is None else read_ns,
        ts_local=at_ns,
    )


def test_the_stop_waits_for_a_last_fill_to_be_booked_before_it_ends() -> None:
    clock = WallClock()
    observers = {coin: observer(clock, coin) for coin in ("BTC", "ETH")}
    stop_ns = clock.now_ns()
    for coin, observed in observers.items():
        observed(booked(coin, "-0.004" if coin == "BTC" else "0", stop_ns))
        observed(at_venue(coin, "0", stop_ns + 1))  # BTC's closing fill: traded, not booked
    late_fill = threading.Timer(0.3, observers["BTC"], args=(booked("BTC", "0", stop_ns + 2),))
    late_fill.start()

    apart = wait_until_booked(
        observers=observers, since_ns=stop_ns, deadline_s=5.0, give_up=threading.Event()
    )
    late_fill.join()

    assert apart == {}, "the session ended with the venue's positions booked"


def test_a_stop_says_which_coin_never_booked_the_venues_position() -> None:
    clock = WallClock()
    observers = {"BTC": observer(clock, "BTC")}
    stop_ns = clock.now_ns()
    observers["BTC"](booked("BTC", "-0.004", stop_ns))
    observers["BTC"](at_venue("BTC", "0", stop_ns - 1))  # asked before the stop: no answer

    apart = wait_until_booked(
        observers=observers, since_ns=stop_ns, deadline_s=0.2, give_up=threading.Event()
    )

    assert apart == {"BTC": (Decimal("-0.004"), None)}


def test_an_older_reading_that_arrives_last_does_not_make_a_booked_stop_look_unbooked() -> None:
    clock = WallClock()
    observers = {"BTC": observer(clock, "BTC")}
    stop_ns = clock.now_ns()
    btc = observers["BTC"]
    btc(booked("BTC", "0", stop_ns))  # the closing fill is booked: flat
    btc(at_venue("BTC", "0", stop_ns + 2, read_ns=stop_ns + 1))  # read after the cancels
    # Asked before the cancels, while the position was still open; its answer is slow.
    btc(at_venue("BTC", "-0.004", stop_ns + 3, read_ns=stop_ns - 5))

    apart = wait_until_booked(
        observers=observers, since_ns=stop_ns, deadline_s=0.2, give_up=threading.Event()
    )

    assert apart == {}, "the venue's newest reading is flat, as booked"


def test_a_flatten_is_said_to_leave_open_what_the_venue_reads_not_what_is_booked() -> None:
    clock = WallClock()
    observers = {coin: observer(clock, coin) for coin in ("BTC", "ETH", "SOL")}
    swept_ns = clock.now_ns()
    # BTC closed at the venue; its closing fill is not booked yet (a slow user stream).
    observers["BTC"](booked("BTC", "-0.004", swept_ns - 1))
    observers["BTC"](at_venue("BTC", "0", swept_ns + 1))
    # ETH is open at the venue though the books say flat.
    observers["ETH"](booked("ETH", "0", swept_ns - 1))
    observers["ETH"](at_venue("ETH", "0.2", swept_ns + 1))
    # SOL's venue never answered after the flatten: its booked position is all there is.
    observers["SOL"](booked("SOL", "3", swept_ns - 1))

    left = left_open({"BTC": Decimal("-0.004"), "SOL": Decimal(3)}, observers, since_ns=swept_ns)

    assert left == {"ETH": Decimal("0.2"), "SOL": Decimal(3)}
