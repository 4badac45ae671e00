"""Paper mode with several coins: one paper exchange per coin behind one account."""

from __future__ import annotations

from decimal import Decimal

from makerd.config.model import PaperConfig
from makerd.daemon.cloids import CoinCloids
from makerd.protocol import (
    BookLevel,
    BookSnapshotReceived,
    CancelOrders,
    CancelReason,
    Instrument,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRequest,
    PlaceOrders,
    RequestMargin,
    Side,
    TimeInForce,
)
from makerd.protocol.risk import MarginReported
from makerd.venues.paper import PaperExchange
from makerd.venues.paper.basket import PaperBasket

MIDS = {"BTC": Decimal(50000), "ETH": Decimal(3000), "SOL": Decimal(150)}
SIZES = {"BTC": "0.01", "ETH": "0.01", "SOL": "0.1"}  # each over the 10 USD minimum
COINS = tuple(MIDS)
MS = 1_000_000
T0 = 1_700_000_000_000_000_000
NO_FEES = PaperConfig(maker_fee_rate=Decimal(0), taker_fee_rate=Decimal(0))


def basket_with_books(cloids: CoinCloids, config: PaperConfig = NO_FEES) -> PaperBasket:
    """Every coin's exchange with a book one unit either side of its mid."""
    basket = PaperBasket(
        {
            coin: PaperExchange(Instrument(coin=coin, asset_id=i, sz_decimals=3), config)
            for i, coin in enumerate(COINS)
        },
        paper=config,
        coin_of_cloid=cloids.coin_of,
    )
    for coin, mid in MIDS.items():
        basket.on_market(
            BookSnapshotReceived(
                coin=coin,
                bids=(BookLevel(price=mid - 1, size=Decimal(5)),),
                asks=(BookLevel(price=mid + 1, size=Decimal(5)),),
                ts_exchange=T0,
                ts_local=T0,
            )
        )
    return basket


def order(
    cloids: CoinCloids,
    coin: str,
    price: Decimal,
    size: str,
    tif: TimeInForce = TimeInForce.POST_ONLY,
) -> OrderRequest:
    return OrderRequest(
        cloid=cloids.factories[coin](),
        coin=coin,
        side=Side.BUY,
        price=price,
        size=Decimal(size),
        tif=tif,
    )


def test_a_batch_of_several_coins_orders_rests_each_on_its_own_coins_exchange() -> None:
    cloids = CoinCloids(COINS, run_prefix=1)
    basket = basket_with_books(cloids)
    bids = [order(cloids, coin, mid - 10, SIZES[coin]) for coin, mid in MIDS.items()]

    basket.submit(PlaceOrders(orders=tuple(bids), ts_local=T0), T0)
    accepted = basket.events_until(T0 + 500 * MS)
    resting = {coin: exchange.open_order_count for coin, exchange in basket.exchanges.items()}
    eth = bids[1].cloid
    basket.submit(CancelOrders(cloids=(eth,), reason=CancelReason.REQUOTE, ts_local=T0), T0)
    cancelled = basket.events_until(T0 + 1000 * MS)

    assert {e.cloid for e in accepted if isinstance(e, OrderAccepted)} == {b.cloid for b in bids}
    assert resting == dict.fromkeys(COINS, 1)
    assert [e.cloid for e in cancelled if isinstance(e, OrderCancelled)] == [eth]
    after = {coin: exchange.open_order_count for coin, exchange in basket.exchanges.items()}
    assert after == {"BTC": 1, "ETH": 0, "SOL": 1}


def test_fills_stay_on_their_coin_and_margin_is_answered_once_for_the_account() -> None:
    cloids = CoinCloids(COINS, run_prefix=1)
    basket = basket_with_books(cloids)
    ioc = TimeInForce.IMMEDIATE_OR_CANCEL
    crossing = (
        order(cloids, "BTC", MIDS["BTC"] + 1, "0.01", tif=ioc),
        order(cloids, "ETH", MIDS["ETH"] + 1, "0.1", tif=ioc),
    )

    basket.submit(PlaceOrders(orders=crossing, ts_local=T0), T0)
    fills = [e for e in basket.events_until(T0 + 500 * MS) if isinstance(e, OrderFilled)]
    basket.submit(RequestMargin(ts_local=T0 + 500 * MS), T0 + 500 * MS)
    answers = [e for e in basket.events_until(T0 + 1000 * MS) if isinstance(e, MarginReported)]

    assert sorted((f.coin, f.size, f.price) for f in fills) == [
        ("BTC", Decimal("0.01"), Decimal(50001)),
        ("ETH", Decimal("0.1"), Decimal(3001)),
    ]
    assert {coin: x.position for coin, x in basket.exchanges.items()} == {
        "BTC": Decimal("0.01"),
        "ETH": Decimal("0.1"),
        "SOL": 0,
    }
    (margin,) = answers
    # Each long is marked at its mid, one unit under its entry: 0.01 + 0.1 USD down, on one
    # 10,000 USD account (not three); margin is both notionals over 20x: 25 + 15 USD.
    assert margin.account_value == Decimal("9999.89")
    assert margin.margin_used == Decimal(40)
