"""Take-profit and stop-loss orders at the paper venue: they wait off the book for the mark."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

import pytest

from makerd.config.model import PaperConfig
from makerd.protocol import (
    BookLevel,
    BookSnapshotReceived,
    CancelAll,
    CancelOrders,
    CancelReason,
    Instrument,
    Liquidity,
    ModifyOrders,
    ModifyRejected,
    OpenOrdersReported,
    OrderAccepted,
    OrderAmendment,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderRequest,
    PlaceOrders,
    RejectReason,
    RequestAccountSnapshot,
    Side,
    TimeInForce,
    TradePrinted,
    Trigger,
    TriggerKind,
)
from makerd.venues.paper import PaperExchange

BTC = Instrument(coin="BTC", asset_id=0, sz_decimals=5)
MS = 1_000_000
T0 = 1_700_000_000_000_000_000
SETTLE = 50 * MS  # order entry (30 ms) plus acknowledgement (20 ms)
D = Decimal
TAKER_FEE = PaperConfig().taker_fee_rate
T = TypeVar("T")


def book(ts: int, bid: str, ask: str, size: str = "1") -> BookSnapshotReceived:
    """Two levels a side, one dollar apart; the mid is the paper venue's mark."""
    return BookSnapshotReceived(
        coin="BTC",
        bids=tuple(BookLevel(price=D(bid) - i, size=D(size)) for i in range(2)),
        asks=tuple(BookLevel(price=D(ask) + i, size=D(size)) for i in range(2)),
        ts_exchange=ts,
        ts_local=ts,
    )


def taker(cloid: str, side: Side, price: str, size: str) -> OrderRequest:
    return OrderRequest(
        cloid=cloid,
        coin="BTC",
        side=side,
        price=D(price),
        size=D(size),
        tif=TimeInForce.IMMEDIATE_OR_CANCEL,
    )


def bracket_order(
    cloid: str,
    kind: TriggerKind,
    *,
    trigger: str,
    limit: str,
    side: Side = Side.SELL,
    size: str = "0.01",
    reduce_only: bool = True,
    is_market: bool = True,
) -> OrderRequest:
    return OrderRequest(
        cloid=cloid,
        coin="BTC",
        side=side,
        price=D(limit),
        size=D(size),
        tif=TimeInForce.IMMEDIATE_OR_CANCEL,
        reduce_only=reduce_only,
        trigger=Trigger(price=D(trigger), kind=kind, is_market=is_market),
    )


class Session:
    """A paper venue on a hand-stepped clock; ``now`` moves forward with every call."""

    def __init__(self) -> None:
        self.venue = PaperExchange(BTC, PaperConfig(), id_prefix="trig")
        self.now = T0
        self.venue.on_market(book(self.now, "60000", "60001"))

    def send(self, *requests: OrderRequest) -> list[object]:
        self.venue.submit(PlaceOrders(orders=requests, ts_local=self.now), self.now)
        return self.wait()

    def command(self, command: CancelOrders | CancelAll | ModifyOrders) -> list[object]:
        self.venue.submit(command, self.now)
        return self.wait()

    def market(self, bid: str, ask: str, size: str = "1") -> list[object]:
        self.now += MS
        self.venue.on_market(book(self.now, bid, ask, size))
        return self.wait()

    def wait(self) -> list[object]:
        self.now += SETTLE
        return self.venue.advance(self.now)

    def open_long(self, size: str = "0.01") -> None:
        self.send(taker("entry", Side.BUY, "60001", size))
        assert self.venue.position == D(size)


@pytest.fixture
def session() -> Session:
    return Session()


def of_type(events: list[object], kind: type[T]) -> list[T]:
    return [event for event in events if isinstance(event, kind)]


def test_a_take_profit_waits_off_the_book_and_closes_the_long_as_taker_when_the_mark_rises(
    session: Session,
) -> None:
    session.open_long()
    placed = session.send(
        bracket_order("tp", TriggerKind.TAKE_PROFIT, trigger="60100", limit="60000")
    )
    below = session.market("60098", "60100")  # mid 60099: not yet

    fired = session.market("60100", "60102")  # mid 60101: at or above the trigger

    assert [type(event) for event in placed] == [OrderAccepted]
    assert of_type(below, OrderFilled) == []
    [close] = of_type(fired, OrderFilled)
    assert (close.cloid, close.side, close.price, close.size) == (
        "tp",
        Side.SELL,
        D(60100),
        D("0.01"),
    )
    assert close.liquidity is Liquidity.TAKER
    assert close.fee == D(60100) * D("0.01") * TAKER_FEE
    assert session.venue.position == 0
    assert session.venue.open_order_count == 0


def test_a_stop_loss_closes_the_long_when_the_mark_falls_to_it(session: Session) -> None:
    session.open_long()
    session.send(bracket_order("sl", TriggerKind.STOP_LOSS, trigger="59900", limit="59600"))

    above = session.market("59901", "59903")
    fired = session.market("59880", "59882")

    assert of_type(above, OrderFilled) == []
    [close] = of_type(fired, OrderFilled)
    assert (close.cloid, close.price, close.size) == ("sl", D(59880), D("0.01"))
    assert session.venue.position == 0


def test_a_stop_loss_on_a_short_buys_back_when_the_mark_rises_to_it(session: Session) -> None:
    session.send(taker("entry", Side.SELL, "60000", "0.01"))
    stop = bracket_order("sl", TriggerKind.STOP_LOSS, trigger="60100", limit="60400", side=Side.BUY)
    session.send(stop)

    fired = session.market("60110", "60112")

    [close] = of_type(fired, OrderFilled)
    assert (close.side, close.price) == (Side.BUY, D(60112))
    assert session.venue.position == 0


def test_an_unfired_trigger_is_in_no_queue_so_trades_at_its_limit_do_not_fill_it(
    session: Session,
) -> None:
    session.open_long()
    session.send(bracket_order("tp", TriggerKind.TAKE_PROFIT, trigger="60500", limit="60001"))

    session.venue.on_market(
        TradePrinted(
            coin="BTC",
            side=Side.BUY,
            price=D(60010),
            size=D(5),
            trade_id="public-1",
            ts_exchange=session.now,
            ts_local=session.now,
        )
    )
    events = session.wait()

    assert of_type(events, OrderFilled) == []
    assert session.venue.position == D("0.01")


def test_a_market_trigger_whose_limit_the_book_cannot_reach_takes_what_it_can_and_cancels_the_rest(
    session: Session,
) -> None:
    session.open_long(size="0.03")
    session.send(
        bracket_order("sl", TriggerKind.STOP_LOSS, trigger="59900", limit="59889", size="0.03")
    )

    fired = session.market("59890", "59892", size="0.01")  # 0.01 at 59890, 0.01 at 59889

    assert [f.size for f in of_type(fired, OrderFilled)] == [D("0.01"), D("0.01")]
    [cancelled] = of_type(fired, OrderCancelled)
    assert cancelled.cloid == "sl"
    assert session.venue.position == D("0.01")
    assert session.venue.open_order_count == 0


def test_a_limit_trigger_rests_its_unfilled_remainder_once_fired(session: Session) -> None:
    session.open_long(size="0.03")
    limit_stop = bracket_order(
        "sl", TriggerKind.STOP_LOSS, trigger="59900", limit="59890", size="0.03", is_market=False
    )
    session.send(limit_stop)

    fired = session.market("59890", "59892", size="0.01")

    assert [f.size for f in of_type(fired, OrderFilled)] == [D("0.01")]
    assert of_type(fired, OrderCancelled) == []
    assert session.venue.position == D("0.02")
    assert session.venue.open_order_count == 1


def test_a_trigger_fired_after_the_position_is_gone_is_cancelled_as_reduce_only(
    session: Session,
) -> None:
    session.open_long()
    session.send(bracket_order("tp", TriggerKind.TAKE_PROFIT, trigger="60100", limit="60000"))
    session.send(taker("exit", Side.SELL, "60000", "0.01"))

    fired = session.market("60200", "60202")

    assert of_type(fired, OrderFilled) == []
    [cancelled] = of_type(fired, OrderCancelled)
    assert (cancelled.cloid, cancelled.reason) == ("tp", CancelReason.RISK)
    assert session.venue.open_order_count == 0


def test_triggers_are_refused_without_a_position_to_reduce_or_without_reduce_only(
    session: Session,
) -> None:
    no_position = session.send(
        bracket_order("a", TriggerKind.STOP_LOSS, trigger="59900", limit="59600")
    )
    session.open_long()
    not_reducing = session.send(
        bracket_order("b", TriggerKind.STOP_LOSS, trigger="59900", limit="59600", reduce_only=False)
    )
    off_tick = session.send(
        bracket_order("c", TriggerKind.STOP_LOSS, trigger="59900.5", limit="59600")
    )

    reasons = [of_type(events, OrderRejected)[0].reason for events in (no_position, not_reducing)]
    assert reasons == [RejectReason.REDUCE_ONLY, RejectReason.REDUCE_ONLY]
    assert of_type(off_tick, OrderRejected)[0].message == "Invalid TP/SL price."
    assert session.venue.open_order_count == 0


def test_pending_triggers_are_reported_cancelled_singly_and_by_cancel_all(
    session: Session,
) -> None:
    session.open_long()
    session.send(
        bracket_order("tp", TriggerKind.TAKE_PROFIT, trigger="60100", limit="60000"),
        bracket_order("sl", TriggerKind.STOP_LOSS, trigger="59900", limit="59600"),
    )
    session.venue.submit(RequestAccountSnapshot(coin="BTC", ts_local=session.now), session.now)
    [report] = of_type(session.wait(), OpenOrdersReported)

    single = session.command(CancelOrders(cloids=("tp",), reason=CancelReason.REQUOTE, ts_local=0))
    rest = session.command(CancelAll(coin="BTC", reason=CancelReason.SHUTDOWN, ts_local=0))
    later = session.market("59000", "59002")

    assert sorted((o.cloid, o.price) for o in report.orders) == [("sl", D(59600)), ("tp", D(60000))]
    assert [c.cloid for c in of_type(single, OrderCancelled)] == ["tp"]
    assert [c.cloid for c in of_type(rest, OrderCancelled)] == ["sl"]
    assert of_type(later, OrderFilled) == []
    assert session.venue.position == D("0.01")


def test_a_pending_trigger_cannot_be_modified(session: Session) -> None:
    session.open_long()
    session.send(bracket_order("tp", TriggerKind.TAKE_PROFIT, trigger="60100", limit="60000"))

    amendment = OrderAmendment(cloid="tp", price=D(60050), size=D("0.01"))
    events = session.command(ModifyOrders(amendments=(amendment,), ts_local=0))

    [refused] = of_type(events, ModifyRejected)
    assert refused.reason is RejectReason.OTHER
    assert session.venue.open_order_count == 1
