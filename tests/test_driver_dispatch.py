"""The deterministic driver delivers by the routing table, answers pings for every actor
role and never for the venue or the observer, and runs a message's consequences breadth
first to completion."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from makerd.actors.driver import DeterministicDriver
from makerd.actors.routing import (
    BOOK_FEED,
    FILL_TRACKER,
    OBSERVER,
    QUOTER,
    RISK_GUARDIAN,
    WATCHDOG,
    Directed,
)
from makerd.config.model import MakerdConfig
from makerd.daemon.backtest import run_simulated
from makerd.protocol.clock import ManualClock
from makerd.protocol.control import AllChildrenAlive, ChildUnresponsive, Ping, Pong
from makerd.protocol.market import BookLevel, BookSnapshotReceived, BookUpdated
from makerd.protocol.orders import VenueCommand

_UPDATE = BookUpdated(
    coin="BTC",
    bids=(BookLevel(price=Decimal(100), size=Decimal(1)),),
    asks=(),
    ts_exchange=900,
    ts_local=1_000,
)


class _NoVenue:
    """A venue with no market: what the driver sends to it is kept."""

    def __init__(self) -> None:
        self.submitted: list[VenueCommand] = []

    def advance(self, now_ns: int) -> list[object]:
        return []

    def submit(self, command: VenueCommand, now_ns: int) -> None:
        self.submitted.append(command)


class _Echo:
    """A book_feed stand-in: each snapshot becomes the given book update."""

    def __init__(self, seen: list[tuple[str, object]], update: BookUpdated) -> None:
        self._seen = seen
        self._update = update

    def handle(self, message: object) -> list[object]:
        self._seen.append((BOOK_FEED, message))
        return [self._update] if isinstance(message, BookSnapshotReceived) else []


class _Recorder:
    def __init__(self, role: str, seen: list[tuple[str, object]]) -> None:
        self._role = role
        self._seen = seen

    def handle(self, message: object) -> list[object]:
        self._seen.append((self._role, message))
        return []


def _driver(seen: list[tuple[str, object]]) -> tuple[DeterministicDriver, _NoVenue]:
    venue = _NoVenue()
    driver = DeterministicDriver(
        logics={
            BOOK_FEED: _Echo(seen, _UPDATE),
            QUOTER: _Recorder(QUOTER, seen),
            RISK_GUARDIAN: _Recorder(RISK_GUARDIAN, seen),
            WATCHDOG: _Recorder(WATCHDOG, seen),
        },
        venue=venue,
        clock=ManualClock(1_000),
        step_ns=1_000,
        timer_interval_ns=1_000_000,
        observer=lambda message: seen.append((OBSERVER, message)),
    )
    return driver, venue


def test_a_ping_is_answered_for_every_actor_role_even_one_without_logic() -> None:
    seen: list[tuple[str, object]] = []
    driver, _ = _driver(seen)

    for role in (QUOTER, FILL_TRACKER):
        driver.deliver(Directed(to=role, message=Ping(seq=7, ts_local=1_000)))

    pongs = [message for _, message in seen if isinstance(message, Pong)]
    assert [(pong.role, pong.seq) for pong in pongs] == [(QUOTER, 7), (FILL_TRACKER, 7)]
    # The quoter's logic never saw the ping: the driver answers it, as the actor shell does.
    assert not [m for role, m in seen if role == QUOTER and isinstance(m, Ping)]


def test_a_snapshot_reaches_its_roles_and_what_it_causes_runs_breadth_first() -> None:
    seen: list[tuple[str, object]] = []
    driver, _ = _driver(seen)
    snapshot = BookSnapshotReceived(
        coin="BTC", bids=_UPDATE.bids, asks=(), ts_exchange=900, ts_local=1_000
    )

    driver.deliver(snapshot)

    roles = [(role, type(message).__name__) for role, message in seen]
    assert roles == [
        (BOOK_FEED, "BookSnapshotReceived"),
        (QUOTER, "BookUpdated"),
        (RISK_GUARDIAN, "BookUpdated"),
        (OBSERVER, "BookUpdated"),
    ]
    assert driver.delivered == 5  # the fill tracker has no logic here: delivered, unheard


def test_every_actor_answers_the_watchdog_through_a_minute_of_sim(tmp_path: Path) -> None:
    verdicts: list[object] = []

    run_simulated(
        MakerdConfig(),
        seconds=60,
        state_dir=tmp_path,
        watch=lambda message: (
            verdicts.append(message)
            if isinstance(message, AllChildrenAlive | ChildUnresponsive)
            else None
        ),
    )

    assert verdicts
    assert all(isinstance(verdict, AllChildrenAlive) for verdict in verdicts)
