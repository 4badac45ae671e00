"""The observer measures each order action's acknowledgement latency once, for the metric
and for the journal: one row per accepted action, none for a refusal or a stranger's answer."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from prometheus_client import CollectorRegistry

from makerd.daemon.ack_latencies import AckLatencyLog
from makerd.daemon.journal import Journal
from makerd.daemon.metrics import Metrics
from makerd.daemon.observer import Observer
from makerd.protocol.clock import ManualClock
from makerd.protocol.control import AllChildrenAlive
from makerd.protocol.order_actions import ActionKind
from makerd.protocol.orders import (
    CancelOrders,
    CancelReason,
    ModifyOrders,
    OrderAccepted,
    OrderAmendment,
    OrderCancelled,
    OrderModified,
    OrderRejected,
    OrderRequest,
    PlaceOrders,
)
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from tests.kit import T0

MS = 1_000_000
PRICE, SIZE = Decimal(100), Decimal(1)


def place(*cloids: str) -> PlaceOrders:
    orders = tuple(
        OrderRequest(cloid=c, coin="BTC", side=Side.BUY, price=PRICE, size=SIZE) for c in cloids
    )
    return PlaceOrders(orders=orders, ts_local=T0)


def accepted(cloid: str, at: int) -> OrderAccepted:
    return OrderAccepted(
        cloid=cloid, venue_order_id=1, coin="BTC", side=Side.BUY, price=PRICE, size=SIZE,
        ts_exchange=at, ts_local=at,
    )  # fmt: skip


def test_each_accepted_action_is_journaled_once_with_its_kind_and_delay(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    registry = CollectorRegistry()
    with Journal(tmp_path / "journal.sqlite") as journal:
        session = journal.start_session(mode="live", coin="BTC", ts_ns=T0)
        log = AckLatencyLog(journal=journal.ack_latencies, session_id=session)
        observer = Observer(
            metrics=Metrics(registry, venue="live", symbol="BTC", process_collectors=False),
            clock=clock, coin="BTC", ack_log=log,
        )  # fmt: skip

        def answer_after(ms: int, message: object) -> None:
            clock.advance_by(ms * MS)
            observer(message)

        observer(place("a", "b", "c"))
        answer_after(3, accepted("a", clock.now_ns()))
        answer_after(1, OrderRejected(cloid="b", reason=RejectReason.OTHER, message="no",
                                      ts_exchange=T0, ts_local=T0))  # fmt: skip
        answer_after(1, accepted("a", clock.now_ns()))  # a second answer to the same action
        answer_after(1, accepted("stranger", clock.now_ns()))  # never sent in this run
        observer(ModifyOrders(amendments=(OrderAmendment(cloid="a", price=PRICE, size=SIZE),),
                              ts_local=T0))  # fmt: skip
        answer_after(2, OrderModified(cloid="a", venue_order_id=2, price=PRICE, size=SIZE,
                                      ts_exchange=T0, ts_local=T0))  # fmt: skip
        observer(CancelOrders(cloids=("a",), reason=CancelReason.REQUOTE, ts_local=T0))
        answer_after(5, OrderCancelled(cloid="a", reason=CancelReason.REQUOTE,
                                       ts_exchange=T0, ts_local=T0))  # fmt: skip
        before_flush = journal.ack_latencies.ack_latencies(session)
        observer(AllChildrenAlive(ts_local=clock.now_ns()))
        rows = journal.ack_latencies.ack_latencies(session)

    assert before_flush == [], "nothing is written on the thread that delivers answers"
    assert [(r.kind, r.latency_ns, r.coin) for r in rows] == [
        (ActionKind.PLACE, 3 * MS, "BTC"),
        (ActionKind.MODIFY, 2 * MS, "BTC"),
        (ActionKind.CANCEL, 5 * MS, "BTC"),
    ]
    labels = {"venue": "live", "symbol": "BTC"}
    assert registry.get_sample_value("makerd_order_ack_latency_seconds_count", labels) == 1
    assert registry.get_sample_value("makerd_order_ack_latency_seconds_sum", labels) == 0.003
