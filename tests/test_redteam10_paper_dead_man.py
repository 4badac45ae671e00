"""The dead-man switch, on paper as at the venue.

The watchdog re-arms the exchange's ``scheduleCancel`` while every actor answers; when the
process hangs it stops, and the venue cancels every order at the scheduled time (status
``scheduledCancel``). Paper ignored the switch: a paper run whose actors hung kept its
orders resting and filling on the I/O thread, which live never would.
"""

from __future__ import annotations

from decimal import Decimal

from makerd.config.model import PaperConfig
from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import (
    ArmDeadManSwitch,
    CancelReason,
    DeadManSwitchArmed,
    OrderCancelled,
    OrderRequest,
    PlaceOrders,
)
from makerd.protocol.side import Side
from makerd.venues.paper import PaperExchange
from makerd.venues.paper.basket import PaperBasket
from tests.kit import BTC, T0, S, snapshot

ETH = Instrument(coin="ETH", asset_id=1, sz_decimals=4)


def bid(n: int, coin: str = "BTC", price: str = "59000") -> OrderRequest:
    return OrderRequest(
        cloid=f"0x{n:032x}", coin=coin, side=Side.BUY, price=Decimal(price), size=Decimal("0.01")
    )


def arm(at_ns: int, *, lasting_s: int = 10) -> ArmDeadManSwitch:
    return ArmDeadManSwitch(cancel_at_ns=at_ns + lasting_s * S, ts_local=at_ns)


def resting_exchange() -> PaperExchange:
    exchange = PaperExchange(BTC, PaperConfig(), id_prefix="dms")
    exchange.on_market(snapshot("60000", "60001"))
    exchange.submit(PlaceOrders(orders=(bid(1),), ts_local=T0), T0)
    exchange.advance(T0 + S)
    return exchange


def test_an_armed_switch_left_to_lapse_cancels_every_order() -> None:
    exchange = resting_exchange()

    exchange.submit(arm(T0 + S), T0 + S)
    events = exchange.advance(T0 + 12 * S)

    assert [type(e) for e in events] == [DeadManSwitchArmed, OrderCancelled]
    cancelled = events[1]
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.reason is CancelReason.RISK
    assert cancelled.ts_exchange == T0 + 11 * S, "cancelled at the switch's time"
    assert exchange.open_order_count == 0


def test_a_switch_re_armed_in_time_leaves_the_orders_resting() -> None:
    exchange = resting_exchange()

    for second in range(1, 30, 5):
        exchange.submit(arm(T0 + second * S), T0 + second * S)
        exchange.advance(T0 + (second + 5) * S)

    assert exchange.open_order_count == 1


def test_the_switch_cancels_every_coins_orders_and_is_answered_once() -> None:
    config = PaperConfig()
    basket = PaperBasket(
        {
            "BTC": PaperExchange(BTC, config, id_prefix="btc"),
            "ETH": PaperExchange(ETH, config, id_prefix="eth"),
        },
        paper=config,
    )
    eth_book = snapshot("3000", "3001")
    basket.on_market(snapshot("60000", "60001"))
    basket.on_market(
        type(eth_book)(
            coin="ETH", bids=eth_book.bids, asks=eth_book.asks, ts_exchange=T0, ts_local=T0
        )
    )
    basket.submit(PlaceOrders(orders=(bid(1), bid(2, "ETH", "2900")), ts_local=T0), T0)
    basket.events_until(T0 + S)

    basket.submit(arm(T0 + S), T0 + S)
    events = basket.events_until(T0 + 12 * S)

    assert len([e for e in events if isinstance(e, DeadManSwitchArmed)]) == 1
    assert sorted(e.cloid for e in events if isinstance(e, OrderCancelled)) == [
        bid(1).cloid,
        bid(2).cloid,
    ]
    assert basket.open_order_count == 0
