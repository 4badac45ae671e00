"""The deterministic driver with several coins addresses each coin's own actors exactly as
the threaded runtime's router does (the same :class:`CoinAddressing`), ticks and starts
every actor in supervision order, and answers the watchdog's pings to ``role:COIN``."""

from __future__ import annotations

from decimal import Decimal

from makerd.actors.coin_addressing import CoinAddressing
from makerd.actors.driver import DeterministicDriver
from makerd.actors.routing import (
    BOOK_FEED,
    FILL_TRACKER,
    OBSERVER,
    ORDER_MANAGER,
    QUOTER,
    WATCHDOG,
    Directed,
    coin_role,
)
from makerd.protocol.clock import ManualClock
from makerd.protocol.control import Ping, Pong, StopTrading, TimerFired
from makerd.protocol.market import BookLevel, BookSnapshotReceived, BookUpdated
from makerd.protocol.orders import VenueCommand

COINS = ("BTC", "ETH")
_LEVEL = BookLevel(price=Decimal(100), size=Decimal(1))


class _NoVenue:
    def advance(self, now_ns: int) -> list[object]:
        return []

    def submit(self, command: VenueCommand, now_ns: int) -> None:
        raise AssertionError(f"nothing is sent in these tests: {command}")


class _Recorder:
    """Keeps what reaches it; a book feed's stand-in makes its coin's snapshot an update."""

    def __init__(self, name: str, seen: list[tuple[str, object]]) -> None:
        self._name = name
        self._seen = seen

    def handle(self, message: object) -> list[object]:
        self._seen.append((self._name, message))
        if isinstance(message, BookSnapshotReceived):
            return [
                BookUpdated(
                    coin=message.coin, bids=message.bids, asks=(), ts_exchange=1, ts_local=1
                )
            ]
        return []

    def start(self, now_ns: int) -> list[object]:
        self._seen.append((self._name, "start"))
        return []


def _driver(seen: list[tuple[str, object]]) -> DeterministicDriver:
    names = [FILL_TRACKER, WATCHDOG] + [
        coin_role(role, coin) for role in (ORDER_MANAGER, QUOTER, BOOK_FEED) for coin in COINS
    ]
    return DeterministicDriver(
        logics={name: _Recorder(name, seen) for name in names},
        venue=_NoVenue(),
        clock=ManualClock(1_000_000),  # on the timer's grid: the first step ticks
        step_ns=1_000,
        timer_interval_ns=1_000_000,
        observer=lambda message: seen.append((OBSERVER, message)),
        addressing=CoinAddressing(COINS, coin_of_cloid=lambda _: None),
    )


def test_a_coins_snapshot_reaches_that_coins_actors_only() -> None:
    seen: list[tuple[str, object]] = []
    driver = _driver(seen)

    driver.deliver(
        BookSnapshotReceived(coin="ETH", bids=(_LEVEL,), asks=(), ts_exchange=1, ts_local=1)
    )

    assert [(name, type(message).__name__) for name, message in seen] == [
        ("book_feed:ETH", "BookSnapshotReceived"),
        ("quoter:ETH", "BookUpdated"),
        (FILL_TRACKER, "BookUpdated"),
        (OBSERVER, "BookUpdated"),
    ]


def test_a_message_naming_no_coin_reaches_every_coins_actor() -> None:
    seen: list[tuple[str, object]] = []
    driver = _driver(seen)

    driver.deliver(StopTrading(reason="test", flatten=False, ts_local=1))

    assert [name for name, _ in seen] == ["order_manager:BTC", "order_manager:ETH"]


def test_every_actor_starts_and_hears_the_tick_in_supervision_order() -> None:
    seen: list[tuple[str, object]] = []
    driver = _driver(seen)

    driver.start()
    driver.step()

    order = [
        FILL_TRACKER,
        "order_manager:BTC",
        "order_manager:ETH",
        "quoter:BTC",
        "quoter:ETH",
        "book_feed:BTC",
        "book_feed:ETH",
        WATCHDOG,
    ]
    assert [name for name, message in seen if message == "start"] == order
    assert [name for name, message in seen if isinstance(message, TimerFired)] == order


def test_a_ping_to_a_coins_actor_is_answered_in_its_name() -> None:
    seen: list[tuple[str, object]] = []
    driver = _driver(seen)

    driver.deliver(Directed(to="quoter:ETH", message=Ping(seq=3, ts_local=1)))

    pongs = [(name, message) for name, message in seen if isinstance(message, Pong)]
    assert [(name, pong.role, pong.seq) for name, pong in pongs] == [(WATCHDOG, "quoter:ETH", 3)]
    assert not [name for name, message in seen if isinstance(message, Ping)], "the driver answers"
