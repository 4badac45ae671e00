"""An order the user stream reports open on makerd's coin that is none of makerd's.

A trader acting by hand on the account makerd quotes (a resting order, a modify of one of
makerd's orders that kept its cloid) puts an order on the coin that makerd does not own.
The stream says so at once; makerd used to ignore it, and its minute's audit found the
stranger 30-90 s later. Now the report brings that audit forward (at most one such audit
per 5 s), and the listing's orphan rule cancels it, and it alone: makerd's own ladder
keeps resting. End to end, against the local venue:
``tests/faults/test_others_on_the_account.py``.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from makerd.actors.order_state import OrderTable
from makerd.actors.venue_truth import (
    STRANGER_AUDIT_SPACING_NS,
    TruthTiming,
    VenueTruth,
    apply_report,
    note_stranger,
)
from makerd.protocol.orders import (
    CancelAll,
    CancelReason,
    OpenOrder,
    OpenOrdersReported,
    OrderAccepted,
    OrderRequest,
    OrderStatus,
)
from makerd.protocol.side import Side
from makerd.protocol.stranger_orders import StrangerOrderReported
from makerd.venues.hyperliquid.order_reports import order_events
from makerd.venues.hyperliquid.parse import OrderStatusReported
from makerd.venues.hyperliquid.pending_fills import PendingFills
from makerd.venues.hyperliquid.state import OrderLegs
from tests.kit import d, fill
from tests.test_hl_modify_lost import stream_report
from tests.test_order_table_legs import CLOID, rested_and_modified

S = 1_000_000_000
START = 1_800_000_000 * S
OURS = "0x00000000000000000000000000000001"


def report(
    *, cloid: str | None, oid: int = 77, status: OrderStatus = OrderStatus.OPEN
) -> OrderStatusReported:
    return dataclasses.replace(stream_report(oid, status, START), cloid=cloid)


def placed_by_us(legs: OrderLegs) -> None:
    request = OrderRequest(
        cloid=OURS, coin="BTC", side=Side.BUY, price=Decimal(60000), size=Decimal("0.001")
    )
    legs.placing(request)


def clean_truth() -> VenueTruth:
    truth = VenueTruth(TruthTiming())
    truth.asked(START)
    truth.reported(orphans=False, in_doubt=False, now_ns=START)
    return truth


def stranger(
    oid: int = 77, at: int = START, status: OrderStatus = OrderStatus.OPEN
) -> StrangerOrderReported:
    return StrangerOrderReported(
        coin="BTC", venue_order_id=oid, status=status, ts_exchange=at, ts_local=at
    )


def test_an_open_order_with_no_cloid_is_reported_as_a_stranger() -> None:
    events = order_events(report(cloid=None), None, OrderLegs())

    assert events == [stranger()]


def test_an_open_order_with_a_cloid_this_run_did_not_place_is_a_stranger() -> None:
    events = order_events(report(cloid="0xabc"), "0xabc", OrderLegs())

    assert events == [stranger()]


def test_our_order_that_ended_and_rests_again_under_its_cloid_is_a_stranger() -> None:
    # A trader's modify that kept the cloid: the old leg cancelled, a new one rests.
    legs = OrderLegs()
    placed_by_us(legs)
    order_events(report(cloid=OURS, oid=5), OURS, legs)
    order_events(report(cloid=OURS, oid=5, status=OrderStatus.CANCELLED), OURS, legs)

    events = order_events(report(cloid=OURS, oid=6), OURS, legs)

    assert events == [stranger(oid=6)]


def test_a_leg_our_ended_order_never_had_filling_is_a_strangers_fill() -> None:
    # A trader's modify that kept the cloid and crossed the book: its fills go at once.
    legs = OrderLegs()
    placed_by_us(legs)
    order_events(report(cloid=OURS, oid=5), OURS, legs)
    order_events(report(cloid=OURS, oid=5, status=OrderStatus.CANCELLED), OURS, legs)

    events = order_events(report(cloid=OURS, oid=6, status=OrderStatus.FILLED), OURS, legs)

    assert events == [stranger(oid=6, status=OrderStatus.FILLED)]


def test_our_own_order_opening_is_an_acceptance_not_a_stranger() -> None:
    legs = OrderLegs()
    placed_by_us(legs)

    events = order_events(report(cloid=OURS), OURS, legs)

    assert [type(event) for event in events] == [OrderAccepted]


def test_a_stranger_that_ended_is_said_but_brings_no_audit_forward() -> None:
    ended = report(cloid=None, status=OrderStatus.CANCELLED)
    truth = clean_truth()

    events = order_events(ended, None, OrderLegs())
    for event in events:
        assert isinstance(event, StrangerOrderReported)
        note_stranger(truth, OrderTable(coin="BTC"), event)

    assert events == [stranger(status=OrderStatus.CANCELLED)]
    assert not truth.due(START + S)


def test_a_fill_held_for_its_orders_answer_goes_at_once_when_the_order_is_a_strangers() -> None:
    # A trader's taker trade: no answer of ours will ever name its oid. Before, its fill
    # waited the whole 2 s hold, and the risk limits and the skew judged a stale position.
    held, legs = PendingFills(hold_ns=2 * S), OrderLegs()
    held.hold(dataclasses.replace(fill("t1", Side.BUY, "100", "1", ts=START), venue_order_id=77))
    assert held.release(legs, START + S // 10) == []

    held.stranger(77)

    assert [f.venue_order_id for f in held.release(legs, START + S // 10)] == [77]


def test_a_stranger_brings_the_minutes_audit_forward_to_now() -> None:
    truth = clean_truth()
    assert not truth.due(START + S)

    note_stranger(truth, OrderTable(coin="BTC"), stranger(at=START + S))

    assert truth.due(START + S)
    truth.asked(START + S)
    truth.reported(orphans=False, in_doubt=False, now_ns=START + S)
    assert not truth.due(START + 2 * S), "the stranger was looked for: no second audit"


def test_strangers_reported_together_are_looked_for_by_one_listing_every_five_seconds() -> None:
    truth, table = clean_truth(), OrderTable(coin="BTC")
    note_stranger(truth, table, stranger(at=START + S))
    truth.asked(START + S)
    truth.reported(orphans=False, in_doubt=False, now_ns=START + S)

    note_stranger(truth, table, stranger(oid=78, at=START + 2 * S))

    assert not truth.due(START + 2 * S)
    assert truth.due(START + S + STRANGER_AUDIT_SPACING_NS)


def test_a_stranger_heard_while_a_question_is_out_is_looked_for_once_it_is_answered() -> None:
    # The question on its way was asked before the stranger rested: it may not show it.
    truth = clean_truth()
    truth.asked(START + S)
    note_stranger(truth, OrderTable(coin="BTC"), stranger(at=START + 2 * S))
    assert not truth.due(START + 2 * S)

    truth.reported(orphans=False, in_doubt=False, now_ns=START + 3 * S)

    assert truth.due(START + 3 * S)


def test_an_orphan_cancel_spares_the_order_managers_own_orders() -> None:
    # Before: a CancelAll of the coin's whole ladder, the stranger among it.
    table, truth = OrderTable(coin="BTC"), clean_truth()
    rested_and_modified(table, modifies=0)  # ours: CLOID resting as oid 1
    ours = OpenOrder(
        cloid=CLOID, venue_order_id=1, coin="BTC", side=Side.BUY, price=d("100"), size=d("1")
    )
    by_hand = dataclasses.replace(ours, cloid=None, venue_order_id=77, price=d("98"))
    report = OpenOrdersReported(
        coin="BTC", orders=(ours, by_hand), ts_exchange=START + S, ts_local=START + S
    )

    out = apply_report(truth, table, report, cancel_orphans=True)

    cancels = [message for message in out if isinstance(message, CancelAll)]
    assert [(c.reason, c.sparing) for c in cancels] == [(CancelReason.ORPHAN, (CLOID,))]
