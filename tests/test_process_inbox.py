"""The process hears its tree's reports once, after the coins' observers have seen them."""

from __future__ import annotations

import dataclasses

from prometheus_client import CollectorRegistry

from makerd.daemon.coin_observers import CoinObservers
from makerd.daemon.metrics import Metrics
from makerd.daemon.observer import Observer
from makerd.daemon.process_inbox import ProcessInbox
from makerd.protocol.clock import ManualClock
from makerd.protocol.control import (
    AllChildrenAlive,
    ChildUnresponsive,
    OperatorCommandApplied,
)
from makerd.protocol.risk import KillReason, KillSwitchTripped
from tests.kit import T0, operator_applied

COINS = ("BTC", "ETH")


@dataclasses.dataclass
class Heard:
    """The run's side: what each reaction saw, and the coin's status when it saw it."""

    observers: CoinObservers
    events: list[tuple[str, object]] = dataclasses.field(default_factory=list)

    def on_unresponsive(self, message: ChildUnresponsive) -> None:
        self.events.append(("unresponsive", message.role))

    def on_alive(self) -> None:
        self.events.append(("alive", None))

    def on_kill_switch(self, tripped: KillSwitchTripped) -> None:
        self.events.append(("kill_switch", tripped.reason))

    def on_operator_command(self, applied: OperatorCommandApplied) -> None:
        status = self.observers.by_coin[applied.coin].snapshot()
        self.events.append(("operator", (applied.coin, status.trading_state)))


def inbox() -> tuple[ProcessInbox, Heard, dict[str, CollectorRegistry]]:
    registries = {coin: CollectorRegistry() for coin in COINS}
    observers = CoinObservers(
        {
            coin: Observer(
                metrics=Metrics(registry, venue="live", symbol=coin, process_collectors=False),
                clock=ManualClock(T0),
                coin=coin,
            )
            for coin, registry in registries.items()
        },
        coin_of=lambda message: getattr(message, "coin", None),
    )
    heard = Heard(observers)
    return ProcessInbox(observers, heard), heard, registries


def test_each_report_reaches_the_run_once_with_several_coins() -> None:
    deliver, heard, registries = inbox()
    deliver(
        KillSwitchTripped(reason=KillReason.MAX_DRAWDOWN, detail="x", flatten=True, ts_local=T0)
    )
    deliver(ChildUnresponsive(role="quoter", silent_for_ns=5, ts_local=T0))
    deliver(AllChildrenAlive(ts_local=T0))

    assert heard.events == [
        ("kill_switch", KillReason.MAX_DRAWDOWN),
        ("unresponsive", "quoter"),
        ("alive", None),
    ]
    trips = [
        registry.get_sample_value(
            "makerd_kill_switch_trips_total",
            {"venue": "live", "symbol": coin, "reason": "max_drawdown"},
        )
        for coin, registry in registries.items()
    ]
    assert trips == [1.0, 0.0], "counted once, by the process's own (first) coin"


def test_an_operators_answer_reaches_the_run_after_the_coins_status_shows_it() -> None:
    deliver, heard, _registries = inbox()
    deliver(operator_applied(coin="ETH"))

    # `makerd ctl pause` answers from this reaction: a status read right after must agree.
    assert heard.events == [("operator", ("ETH", "paused"))]
    assert heard.observers.by_coin["BTC"].snapshot().trading_state == "normal"
