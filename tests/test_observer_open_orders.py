"""The observer's open-order counts and quotes sent, as a scrape and the status line show them.

Every order change passes the observer on the order manager's thread, on the way to the
venue; it recounts only when an order came or went, so these pin the counts themselves.
"""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry

from makerd.daemon.metrics import Metrics
from makerd.daemon.observer import Observer
from makerd.protocol.clock import ManualClock
from makerd.protocol.orders import OrderStateChanged, OrderStatus
from makerd.protocol.side import Side
from tests.kit import T0, target


def change(cloid: str, side: Side, status: OrderStatus) -> OrderStateChanged:
    return OrderStateChanged(
        cloid=cloid,
        coin="BTC",
        side=side,
        status=status,
        price=Decimal(100),
        size=Decimal(1),
        ts_local=T0,
    )


def value(registry: CollectorRegistry, name: str, side: str) -> float | None:
    return registry.get_sample_value(name, {"venue": "sim", "symbol": "BTC", "side": side})


def test_open_orders_count_what_rests_through_placements_modifies_fills_and_strangers() -> None:
    registry = CollectorRegistry()
    observer = Observer(
        metrics=Metrics(registry, venue="sim", symbol="BTC", process_collectors=False),
        clock=ManualClock(T0),
    )
    for message in (
        change("b1", Side.BUY, OrderStatus.PENDING_NEW),
        change("b2", Side.BUY, OrderStatus.PENDING_NEW),
        change("a1", Side.SELL, OrderStatus.PENDING_NEW),
        change("b1", Side.BUY, OrderStatus.OPEN),
        change("b1", Side.BUY, OrderStatus.PENDING_MODIFY),
        change("b2", Side.BUY, OrderStatus.FILLED),
        change("zz", Side.SELL, OrderStatus.CANCELLED),  # never heard of: nothing to count
        change("a1", Side.SELL, OrderStatus.PENDING_MODIFY),
    ):
        observer(message)

    assert value(registry, "makerd_open_orders", "buy") == 1
    assert value(registry, "makerd_open_orders", "sell") == 1
    assert observer.snapshot().open_orders == 2


def test_quotes_sent_count_each_sides_levels() -> None:
    registry = CollectorRegistry()
    observer = Observer(
        metrics=Metrics(registry, venue="sim", symbol="BTC", process_collectors=False),
        clock=ManualClock(T0),
    )

    observer(target([("99", "1"), ("98", "1")], [("101", "1")]))
    observer(target([("99", "1")], []))

    assert value(registry, "makerd_quotes_sent_total", "buy") == 3
    assert value(registry, "makerd_quotes_sent_total", "sell") == 1
