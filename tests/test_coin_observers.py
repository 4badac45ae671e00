"""Several coins' observers: readiness for systemd with a coin that gave up early."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from makerd.daemon.coin_observers import CoinObservers
from makerd.daemon.metrics import Metrics
from makerd.daemon.observer import Observer
from makerd.protocol.clock import ManualClock
from tests.kit import T0


def observer(coin: str) -> Observer:
    return Observer(
        metrics=Metrics(CollectorRegistry(), venue="sim", symbol=coin, process_collectors=False),
        clock=ManualClock(T0),
    )


def test_a_coin_that_gave_up_before_its_first_quote_does_not_hold_back_ready() -> None:
    btc, eth = observer("BTC"), observer("ETH")
    observers = CoinObservers({"BTC": btc, "ETH": eth}, coin_of=lambda _message: None)
    btc.first_cycle.set()

    waiting = observers.all_cycled()
    observers.mark_gave_up("ETH")

    assert waiting is False, "ETH has neither quoted nor given up yet"
    assert observers.all_cycled() is True
