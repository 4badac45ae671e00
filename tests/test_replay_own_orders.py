"""A replay of a session's own recording sees the market without the session's orders."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from makerd.actors.own_order_log import OwnOrderLog
from makerd.config.loader import parse_config
from makerd.config.model import MakerdConfig
from makerd.daemon.journal import Journal
from makerd.daemon.report_replay import own_orders_of
from makerd.daemon.wiring import keeps_own_orders
from makerd.protocol.market import BookLevel, BookSnapshotReceived, TradePrinted
from makerd.protocol.orders import OrderStateChanged, OrderStatus
from makerd.protocol.side import Side
from makerd.venues.replay.messages import ReplayEvent
from makerd.venues.replay.own_orders import OwnOrderChange, OwnOrders, without_own_orders

D = Decimal


def book(
    ts: int, bids: list[tuple[str, str, int]], asks: list[tuple[str, str, int]]
) -> BookSnapshotReceived:
    def levels(rows: list[tuple[str, str, int]]) -> tuple[BookLevel, ...]:
        return tuple(BookLevel(price=D(p), size=D(s), orders=n) for p, s, n in rows)

    return BookSnapshotReceived(
        coin="ETH", bids=levels(bids), asks=levels(asks), ts_exchange=ts, ts_local=ts
    )


def trade(ts: int, tid: int, price: str = "100") -> TradePrinted:
    return TradePrinted(
        coin="ETH", side=Side.SELL, price=D(price), size=D("1"), trade_id=f"ETH:{tid}",
        ts_exchange=ts, ts_local=ts,
    )  # fmt: skip


def rests(ts: int, cloid: str, side: Side, price: str, size: str) -> OwnOrderChange:
    return OwnOrderChange(
        ts_local=ts, cloid=cloid, side=side, price=D(price), size=D(size), resting=True
    )


def gone(ts: int, cloid: str, side: Side, price: str) -> OwnOrderChange:
    return OwnOrderChange(
        ts_local=ts, cloid=cloid, side=side, price=D(price), size=D(0), resting=False
    )


def replayed(events: list[ReplayEvent], own: OwnOrders) -> list[ReplayEvent]:
    return list(without_own_orders(iter(events), own))


def sizes(levels: tuple[BookLevel, ...]) -> list[tuple[str, str, int]]:
    return [(str(level.price), str(level.size), level.orders) for level in levels]


def test_our_resting_size_is_taken_out_of_its_level_only() -> None:
    own = OwnOrders([rests(5, "a", Side.BUY, "100", "2")], own_trade_ids=())
    market = book(10, bids=[("100", "5", 3), ("99", "2", 1)], asks=[("100.5", "2", 1)])

    (seen,) = replayed([market], own)

    assert isinstance(seen, BookSnapshotReceived)
    assert sizes(seen.bids) == [("100", "3", 2), ("99", "2", 1)]
    assert sizes(seen.asks) == [("100.5", "2", 1)]


def test_a_level_that_was_only_us_disappears_and_never_goes_below_zero() -> None:
    own = OwnOrders(
        [rests(1, "a", Side.SELL, "101", "1"), rests(1, "b", Side.SELL, "102", "3")],
        own_trade_ids=(),
    )
    market = book(
        10, bids=[("100", "1", 1)], asks=[("101", "1", 1), ("102", "2", 1), ("103", "4", 2)]
    )

    (seen,) = replayed([market], own)

    assert isinstance(seen, BookSnapshotReceived)
    assert sizes(seen.asks) == [("103", "4", 2)]
    assert sizes(seen.bids) == [("100", "1", 1)]


def test_an_order_counts_only_between_resting_and_leaving() -> None:
    own = OwnOrders(
        [rests(10, "a", Side.BUY, "100", "2"), gone(20, "a", Side.BUY, "100")], own_trade_ids=()
    )
    books = [book(ts, bids=[("100", "5", 2)], asks=[]) for ts in (5, 10, 15, 20, 25)]

    seen = replayed(list(books), own)

    assert [str(b.bids[0].size) for b in seen if isinstance(b, BookSnapshotReceived)] == [
        "5", "3", "3", "5", "5",
    ]  # fmt: skip


def test_our_own_fills_are_dropped_from_the_trades() -> None:
    own = OwnOrders([], own_trade_ids=["ETH:7"])

    seen = replayed([trade(1, 6), trade(2, 7), trade(3, 8)], own)

    assert [t.trade_id for t in seen if isinstance(t, TradePrinted)] == ["ETH:6", "ETH:8"]
    assert own.trades_dropped == 1


def test_a_journaled_session_is_taken_out_of_its_books(tmp_path: Path) -> None:
    """Order changes as the order manager sends them, through the journal, back as resting."""

    def change(ts: int, status: OrderStatus, price: str, size: str) -> OrderStateChanged:
        return OrderStateChanged(
            cloid="c1", coin="ETH", side=Side.SELL, status=status, price=D(price),
            size=D(size), ts_local=ts,
        )  # fmt: skip

    with Journal(tmp_path / "journal.sqlite") as journal:
        session = journal.start_session(mode="live", coin="ETH", ts_ns=0)
        log = OwnOrderLog(journal=journal.own_orders, session_id=session, batch=2)
        log.observe([change(10, OrderStatus.PENDING_NEW, "101", "2")])  # not at the venue yet
        log.observe([change(20, OrderStatus.OPEN, "101", "2"), object()])
        log.observe([change(30, OrderStatus.OPEN, "101", "0.5")])  # partly filled
        log.observe([change(40, OrderStatus.PENDING_MODIFY, "101", "0.5")])  # still there
        log.observe([change(50, OrderStatus.OPEN, "102", "0.5")])  # modified
        log.observe([change(60, OrderStatus.CANCELLED, "102", "0.5")])
        log.flush()
        own = own_orders_of(journal, session)
    books = [
        book(ts, bids=[], asks=[("101", "3", 2), ("102", "1", 1)]) for ts in (15, 25, 45, 55, 65)
    ]

    seen = [b for b in replayed(list(books), own) if isinstance(b, BookSnapshotReceived)]

    assert [sizes(b.asks) for b in seen] == [
        [("101", "3", 2), ("102", "1", 1)],
        [("101", "1", 1), ("102", "1", 1)],
        [("101", "2.5", 1), ("102", "1", 1)],
        [("101", "3", 2), ("102", "0.5", 1)],
        [("101", "3", 2), ("102", "1", 1)],
    ]


def test_a_live_or_paper_run_that_records_keeps_its_orders_for_a_replay() -> None:
    """Both give their replay's queue wait (only a live run's are taken out of its
    recording: a paper run's orders never reach the venue); sim does not record."""

    def config(mode: str, record_dir: str | None) -> MakerdConfig:
        return parse_config(
            {"mode": mode, "coin": "BTC", "feed": {"record_dir": record_dir}}, source="test"
        )

    assert keeps_own_orders(config("live", "rec"))
    assert keeps_own_orders(config("paper", "rec"))
    assert not keeps_own_orders(config("live", None))
    assert not keeps_own_orders(config("sim", None))
