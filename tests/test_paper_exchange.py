"""The paper matching engine: latency, rules, queue position, fills, fees, cancels, modifies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from makerd.config.model import PaperConfig
from makerd.protocol import (
    BookLevel,
    BookSnapshotReceived,
    CancelAll,
    CancelOrders,
    CancelReason,
    CancelRejected,
    Instrument,
    Liquidity,
    ModifyOrders,
    ModifyRejected,
    OpenOrdersReported,
    OrderAccepted,
    OrderAmendment,
    OrderCancelled,
    OrderFilled,
    OrderModified,
    OrderRejected,
    OrderRequest,
    PlaceOrders,
    PositionReported,
    RejectReason,
    RequestAccountSnapshot,
    Side,
    TimeInForce,
    TradePrinted,
)
from makerd.venues.paper import PaperExchange

BTC = Instrument(coin="BTC", asset_id=0, sz_decimals=5)
MS = 1_000_000
T0 = 1_700_000_000_000_000_000
ENTRY = 30 * MS
ACK = 20 * MS
D = Decimal


def book(ts: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> BookSnapshotReceived:
    return BookSnapshotReceived(
        coin="BTC",
        bids=tuple(BookLevel(price=D(p), size=D(s)) for p, s in bids),
        asks=tuple(BookLevel(price=D(p), size=D(s)) for p, s in asks),
        ts_exchange=ts,
        ts_local=ts,
    )


def trade(ts: int, aggressor: Side, price: str, size: str) -> TradePrinted:
    return TradePrinted(
        coin="BTC",
        side=aggressor,
        price=D(price),
        size=D(size),
        trade_id=f"t{ts}",
        ts_exchange=ts,
        ts_local=ts,
    )


def order(
    cloid: str,
    side: Side,
    price: str,
    size: str,
    tif: TimeInForce = TimeInForce.POST_ONLY,
    *,
    reduce_only: bool = False,
) -> PlaceOrders:
    request = OrderRequest(
        cloid=cloid,
        coin="BTC",
        side=side,
        price=D(price),
        size=D(size),
        tif=tif,
        reduce_only=reduce_only,
    )
    return PlaceOrders(orders=(request,), ts_local=T0)


STANDARD_BOOK = book(
    T0, bids=[("60000", "0.5"), ("59999", "1")], asks=[("60001", "0.4"), ("60002", "1")]
)


@pytest.fixture
def exchange() -> PaperExchange:
    venue = PaperExchange(BTC, PaperConfig(), id_prefix="test")
    venue.on_market(STANDARD_BOOK)
    return venue


def place_and_settle(exchange: PaperExchange, command: PlaceOrders, at: int = T0) -> list[object]:
    exchange.submit(command, at)
    return exchange.advance(at + ENTRY + ACK)


def modify(cloid: str, price: str, size: str) -> ModifyOrders:
    amendment = OrderAmendment(cloid=cloid, price=D(price), size=D(size))
    return ModifyOrders(amendments=(amendment,), ts_local=T0)


def fills(events: list[object]) -> list[OrderFilled]:
    return [event for event in events if isinstance(event, OrderFilled)]


def test_a_command_takes_effect_after_entry_latency_and_is_acked_after_ack_latency(
    exchange: PaperExchange,
) -> None:
    exchange.submit(order("a", Side.BUY, "59990", "0.002"), T0)

    before = exchange.advance(T0 + ENTRY + ACK - 1)
    [accepted] = exchange.advance(T0 + ENTRY + ACK)

    assert before == []
    assert isinstance(accepted, OrderAccepted)
    assert (accepted.ts_exchange, accepted.ts_local) == (T0 + ENTRY, T0 + ENTRY + ACK)


def test_market_data_before_the_order_takes_effect_cannot_fill_it(
    exchange: PaperExchange,
) -> None:
    exchange.submit(order("a", Side.BUY, "60000", "0.002"), T0)

    exchange.on_market(trade(T0 + ENTRY - 1, Side.SELL, "59990", "5"))
    events = exchange.advance(T0 + 10 * ENTRY)

    assert fills(events) == []
    assert exchange.position == 0


def test_an_order_at_the_touch_fills_only_after_sells_have_traded_the_queue_ahead(
    exchange: PaperExchange,
) -> None:
    place_and_settle(exchange, order("a", Side.BUY, "60000", "0.002"))
    t = T0 + 100 * MS

    exchange.on_market(trade(t - 1, Side.BUY, "60000", "9"))  # buyers never hit our bid
    exchange.on_market(trade(t, Side.SELL, "60000", "0.3"))
    exchange.on_market(trade(t + 1, Side.SELL, "60000", "0.199"))
    still_queued = fills(exchange.advance(t + ACK))
    exchange.on_market(trade(t + 2, Side.SELL, "60000", "0.002"))
    first = fills(exchange.advance(t + 2 + ACK))
    exchange.on_market(trade(t + 3, Side.SELL, "60000", "0.5"))
    second = fills(exchange.advance(t + 3 + ACK))

    assert still_queued == []
    assert [(f.price, f.size) for f in first] == [(D("60000"), D("0.001"))]
    assert [(f.price, f.size) for f in second] == [(D("60000"), D("0.001"))]
    assert exchange.position == D("0.002")


def test_a_level_shrinking_without_trades_moves_the_order_up_the_queue(
    exchange: PaperExchange,
) -> None:
    place_and_settle(exchange, order("a", Side.BUY, "60000", "0.002"))
    t = T0 + 100 * MS

    exchange.on_market(book(t, bids=[("60000", "0.1")], asks=[("60001", "0.4")]))
    exchange.on_market(trade(t + 1, Side.SELL, "60000", "0.101"))
    events = exchange.advance(t + ACK + 1)

    assert [f.size for f in fills(events)] == [D("0.001")]


def test_a_sell_trade_below_our_bid_fills_the_whole_order_at_our_price(
    exchange: PaperExchange,
) -> None:
    place_and_settle(exchange, order("a", Side.BUY, "60000", "0.002"))

    exchange.on_market(trade(T0 + 100 * MS, Side.SELL, "59999", "0.0001"))
    [fill] = fills(exchange.advance(T0 + 200 * MS))

    assert (fill.price, fill.size, fill.liquidity) == (D("60000"), D("0.002"), Liquidity.MAKER)
    assert fill.fee == D("60000") * D("0.002") * D("0.00015")


def test_a_book_whose_best_ask_reaches_our_bid_fills_it_as_maker(
    exchange: PaperExchange,
) -> None:
    place_and_settle(exchange, order("a", Side.BUY, "59999", "0.002"))
    t = T0 + 100 * MS

    exchange.on_market(book(t, bids=[("59998", "1")], asks=[("59999", "0.3")]))
    [fill] = fills(exchange.advance(t + ACK))

    assert (fill.price, fill.size, fill.liquidity) == (D("59999"), D("0.002"), Liquidity.MAKER)
    assert (fill.ts_exchange, fill.ts_local) == (t, t + ACK)


def test_maker_fee_is_exact(exchange: PaperExchange) -> None:
    place_and_settle(exchange, order("a", Side.SELL, "60001", "0.00123"))

    exchange.on_market(trade(T0 + 100 * MS, Side.BUY, "60002", "1"))
    [fill] = fills(exchange.advance(T0 + 200 * MS))

    assert fill.fee == D("0.0110701845")  # 60001 * 0.00123 * 0.00015


def test_a_crossing_gtc_order_takes_levels_as_taker_and_rests_the_remainder(
    exchange: PaperExchange,
) -> None:
    command = order("a", Side.BUY, "60002", "1.5", TimeInForce.GOOD_TILL_CANCEL)

    events = place_and_settle(exchange, command)
    exchange.submit(RequestAccountSnapshot(coin="BTC", ts_local=T0), T0 + MS)
    report = exchange.advance(T0 + MS + ENTRY + ACK)

    taken = [(f.price, f.size, f.liquidity, f.fee) for f in fills(events)]
    assert taken == [
        (D("60001"), D("0.4"), Liquidity.TAKER, D("10.800180")),
        (D("60002"), D("1"), Liquidity.TAKER, D("27.00090")),
    ]
    [open_orders] = [e for e in report if isinstance(e, OpenOrdersReported)]
    assert [(o.price, o.size) for o in open_orders.orders] == [(D("60002"), D("0.1"))]


def test_an_ioc_order_cancels_what_it_could_not_take(exchange: PaperExchange) -> None:
    command = order("a", Side.BUY, "60001", "1", TimeInForce.IMMEDIATE_OR_CANCEL)

    events = place_and_settle(exchange, command)

    assert [type(e) for e in events] == [OrderAccepted, OrderFilled, OrderCancelled]
    assert fills(events)[0].size == D("0.4")
    assert exchange.open_order_count == 0


def test_a_reduce_only_ioc_flattens_the_position_and_is_clipped_to_it(
    exchange: PaperExchange,
) -> None:
    place_and_settle(
        exchange, order("long", Side.BUY, "60001", "0.3", TimeInForce.IMMEDIATE_OR_CANCEL)
    )
    flatten = order(
        "flat", Side.SELL, "59000", "5", TimeInForce.IMMEDIATE_OR_CANCEL, reduce_only=True
    )

    events = place_and_settle(exchange, flatten, T0 + 100 * MS)

    assert [(f.price, f.size) for f in fills(events)] == [(D("60000"), D("0.3"))]
    assert exchange.position == 0


IOC = TimeInForce.IMMEDIATE_OR_CANCEL


@pytest.mark.parametrize(
    ("command", "reason", "message"),
    [
        (
            order("a", Side.BUY, "59990", "0.0001"),
            RejectReason.MIN_NOTIONAL,
            "Order must have minimum value of $10.",
        ),
        (order("a", Side.BUY, "59990", "0.000015"), RejectReason.LOT, "Order has invalid size."),
        (order("a", Side.BUY, "59990", "0"), RejectReason.LOT, "Order has zero size."),
        (
            order("a", Side.BUY, "59990.5", "0.002"),
            RejectReason.TICK,
            "Price must be divisible by tick size.",
        ),
        (
            order("a", Side.BUY, "60001", "0.002"),
            RejectReason.POST_ONLY_WOULD_CROSS,
            "Post only order would have immediately matched, bbo was 60000@60001.",
        ),
        (
            order("a", Side.BUY, "60000", "1", IOC),
            RejectReason.IOC_NO_MATCH,
            "Order could not immediately match against any resting orders.",
        ),
        (
            order("a", Side.SELL, "59000", "0.1", IOC, reduce_only=True),
            RejectReason.REDUCE_ONLY,
            "Reduce only order would increase position.",
        ),
    ],
)
def test_orders_the_venue_refuses_are_rejected_with_hyperliquid_reasons_and_texts(
    exchange: PaperExchange, command: PlaceOrders, reason: RejectReason, message: str
) -> None:
    [rejected] = place_and_settle(exchange, command)

    assert isinstance(rejected, OrderRejected)
    assert (rejected.reason, rejected.message) == (reason, message)


def test_a_second_live_order_with_the_same_cloid_is_rejected(exchange: PaperExchange) -> None:
    place_and_settle(exchange, order("a", Side.BUY, "59990", "0.002"))

    [rejected] = place_and_settle(exchange, order("a", Side.BUY, "59980", "0.002"), T0 + MS)

    assert isinstance(rejected, OrderRejected)
    assert rejected.reason is RejectReason.OTHER


def test_an_order_that_is_not_resting_can_be_neither_cancelled_nor_modified(
    exchange: PaperExchange,
) -> None:
    place_and_settle(exchange, order("a", Side.BUY, "59990", "0.002"))
    cancel = CancelOrders(cloids=("a", "a", "never"), reason=CancelReason.REQUOTE, ts_local=T0)

    exchange.submit(cancel, T0 + MS)
    exchange.submit(modify("a", "59980", "0.002"), T0 + MS)
    cancelled, *refused, modify_refused = exchange.advance(T0 + MS + ENTRY + ACK)

    assert isinstance(cancelled, OrderCancelled)
    assert (cancelled.cloid, cancelled.reason) == ("a", CancelReason.REQUOTE)
    assert [(e.cloid, e.message) for e in refused if isinstance(e, CancelRejected)] == [
        ("a", "Order was never placed, already canceled, or filled."),
        ("never", "Order was never placed, already canceled, or filled."),
    ]
    assert isinstance(modify_refused, ModifyRejected)
    assert modify_refused.reason is RejectReason.UNKNOWN_ORDER


def test_cancel_all_cancels_every_resting_order(exchange: PaperExchange) -> None:
    place_and_settle(exchange, order("a", Side.BUY, "59990", "0.002"))
    place_and_settle(exchange, order("b", Side.SELL, "60010", "0.002"), T0 + MS)

    exchange.submit(CancelAll(coin="BTC", reason=CancelReason.SHUTDOWN, ts_local=T0), T0 + 2 * MS)
    events = exchange.advance(T0 + 2 * MS + ENTRY + ACK)

    assert sorted(e.cloid for e in events if isinstance(e, OrderCancelled)) == ["a", "b"]
    assert exchange.open_order_count == 0


def test_shrinking_an_order_at_the_same_price_sends_it_to_the_back_of_its_level(
    exchange: PaperExchange,
) -> None:
    # A modify is cancel-and-replace at the venue: a new oid at the back of the level.
    [accepted] = place_and_settle(exchange, order("a", Side.BUY, "60000", "0.004"))
    exchange.on_market(trade(T0 + 60 * MS, Side.SELL, "60000", "0.45"))

    exchange.submit(modify("a", "60000", "0.002"), T0 + 70 * MS)
    [modified] = exchange.advance(T0 + 70 * MS + ENTRY + ACK)
    exchange.on_market(trade(T0 + 200 * MS, Side.SELL, "60000", "0.052"))
    behind = fills(exchange.advance(T0 + 300 * MS))
    exchange.on_market(trade(T0 + 400 * MS, Side.SELL, "60000", "0.45"))
    [fill] = fills(exchange.advance(T0 + 500 * MS))

    assert isinstance(accepted, OrderAccepted)
    assert isinstance(modified, OrderModified)
    assert modified.venue_order_id != accepted.venue_order_id
    assert behind == [], "the level displayed ahead of it (0.5) trades first"
    assert (fill.size, fill.venue_order_id) == (D("0.002"), modified.venue_order_id)


def test_moving_an_order_to_a_new_price_sends_it_to_the_back_of_that_level(
    exchange: PaperExchange,
) -> None:
    place_and_settle(exchange, order("a", Side.BUY, "59998", "0.002"))

    exchange.submit(modify("a", "59999", "0.002"), T0 + 70 * MS)
    exchange.advance(T0 + 70 * MS + ENTRY + ACK)
    exchange.on_market(trade(T0 + 200 * MS, Side.SELL, "59999", "0.999"))
    queued = fills(exchange.advance(T0 + 300 * MS))
    exchange.on_market(trade(T0 + 400 * MS, Side.SELL, "59999", "0.002"))
    filled = fills(exchange.advance(T0 + 500 * MS))

    assert queued == []
    assert [f.size for f in filled] == [D("0.001")]


def test_the_account_snapshot_reports_open_orders_and_the_average_entry(
    exchange: PaperExchange,
) -> None:
    ioc = TimeInForce.IMMEDIATE_OR_CANCEL
    place_and_settle(exchange, order("x", Side.BUY, "60001", "0.1", ioc))
    place_and_settle(exchange, order("y", Side.BUY, "60002", "0.4", ioc), T0 + MS)
    place_and_settle(exchange, order("rest", Side.SELL, "60010", "0.002"), T0 + 2 * MS)

    exchange.submit(RequestAccountSnapshot(coin="BTC", ts_local=T0), T0 + 3 * MS)
    events = exchange.advance(T0 + 3 * MS + ENTRY + ACK)

    [open_orders] = [e for e in events if isinstance(e, OpenOrdersReported)]
    [position] = [e for e in events if isinstance(e, PositionReported)]
    assert [o.cloid for o in open_orders.orders] == ["rest"]
    assert position.position == D("0.5")
    # 0.1 @ 60001, then the rest of that level (0.3 @ 60001) and 0.1 @ 60002.
    assert position.average_entry == D("60001.2")
