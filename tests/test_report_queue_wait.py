"""The average queue wait of ``makerd report --replay``, against a hand computation on a
small hand-made journal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from makerd.daemon.journal import Journal
from makerd.daemon.report_queue_wait import average_queue_wait
from makerd.protocol.account import Liquidity, OrderFilled
from makerd.protocol.orders import OrderStateChanged, OrderStatus
from makerd.protocol.side import Side

MS = 1_000_000
OPEN, PENDING_NEW, PENDING_MODIFY = (
    OrderStatus.OPEN,
    OrderStatus.PENDING_NEW,
    OrderStatus.PENDING_MODIFY,
)


def change(cloid: str, status: OrderStatus, price: int, size: str, at_ms: int) -> OrderStateChanged:
    side = Side.SELL if cloid == "b" else Side.BUY
    return OrderStateChanged(
        cloid=cloid, coin="BTC", side=side, status=status, price=Decimal(price),
        size=Decimal(size), ts_local=at_ms * MS,
    )  # fmt: skip


def fill(
    trade: str, cloid: str, price: int, at_ms: int, liquidity: Liquidity = Liquidity.MAKER
) -> OrderFilled:
    return OrderFilled(
        trade_id=trade, cloid=cloid, venue_order_id=1, coin="BTC", side=Side.BUY,
        price=Decimal(price), size=Decimal("0.1"), fee=Decimal(0), liquidity=liquidity,
        ts_exchange=at_ms * MS - 1, ts_local=at_ms * MS,
    )  # fmt: skip


def test_the_wait_runs_from_coming_to_rest_at_the_fill_price_to_each_maker_fill(
    tmp_path: Path,
) -> None:
    changes = [
        change("a", PENDING_NEW, 100, "1", 0),
        change("a", OPEN, 100, "1", 10),  # a rests at 100
        change("b", PENDING_NEW, 101, "1", 15),
        change("b", OPEN, 101, "1", 20),  # b rests at 101
        change("b", PENDING_MODIFY, 101, "1", 30),
        change("b", OPEN, 101, "2", 40),  # a modify of b's size alone: its wait goes on
        change("a", OPEN, 100, "0.9", 50),  # a's partial fill
        change("a", PENDING_MODIFY, 100, "0.9", 60),
        change("a", OPEN, 99, "0.9", 70),  # a re-priced: it rests at 99 from here
        change("e", PENDING_NEW, 98, "1", 140),
        change("e", OPEN, 98, "1", 200),
    ]
    fills = [
        fill("1", "a", 100, 50),  # 50 - 10 = 40 ms
        fill("2", "b", 101, 80),  # 80 - 20 = 60 ms
        fill("3", "c", 100, 90, Liquidity.TAKER),  # no queue
        fill("4", "a", 99, 100),  # 100 - 70 = 30 ms
        fill("5", "d", 100, 110),  # an order the journal never saw
        fill("6", "e", 98, 150),  # heard of before its acknowledgement
    ]
    with Journal(tmp_path / "journal.sqlite") as journal:
        session = journal.start_session(mode="live", coin="BTC", ts_ns=0)
        journal.own_orders.record_own_orders(session, changes)
        for booked in fills:
            journal.record_fill(session, booked, realized_pnl=Decimal(0), position_after=Decimal(0))
        other = journal.start_session(mode="live", coin="BTC", ts_ns=1)

        waited = average_queue_wait(journal, session)
        nothing = average_queue_wait(journal, other)

    assert waited == "0.043"  # (40 + 60 + 30) / 3 ms, to the millisecond
    assert nothing is None, "n/a: no maker fill with a known rest"
