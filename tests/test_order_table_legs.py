"""The order table finds an order by any venue id it has had, and forgets them all with it.

A modify on Hyperliquid may give the order a new venue id. A fill that names no cloid is
matched by venue id, so the ids of earlier legs are kept while the order lives; they must
go with it, or a run that modifies once a second keeps thousands more ids every hour.
"""

from __future__ import annotations

import dataclasses

from makerd.actors.order_state import MAX_LEGS_KEPT, OrderTable
from makerd.protocol.orders import (
    CancelReason,
    OrderAccepted,
    OrderAmendment,
    OrderCancelled,
    OrderModified,
    OrderRequest,
    OrderStateChanged,
    OrderStatus,
)
from makerd.protocol.side import Side
from tests.kit import T0, d, fill

CLOID = "0x" + "ab" * 16


def rested_and_modified(table: OrderTable, modifies: int) -> None:
    table.add_pending(
        [OrderRequest(cloid=CLOID, coin="BTC", side=Side.BUY, price=d("100"), size=d("1"))], T0
    )
    table.on_venue_event(
        OrderAccepted(
            cloid=CLOID,
            venue_order_id=1,
            coin="BTC",
            side=Side.BUY,
            price=d("100"),
            size=d("1"),
            ts_exchange=T0,
            ts_local=T0,
        )
    )
    for leg in range(2, modifies + 2):
        table.on_venue_event(
            OrderModified(
                cloid=CLOID,
                venue_order_id=leg,
                price=d(100 - leg),
                size=d("1"),
                ts_exchange=T0 + leg,
                ts_local=T0 + leg,
            )
        )


def test_a_fill_of_an_earlier_leg_without_a_cloid_finds_its_order() -> None:
    table = OrderTable(coin="BTC")
    rested_and_modified(table, modifies=3)

    late = dataclasses.replace(fill("t1", Side.BUY, "99", "0.25"), venue_order_id=2)
    table.on_fill(late)

    order = table.get(CLOID)
    assert order is not None
    assert order.filled == d("0.25")


def test_every_leg_is_forgotten_with_the_order_and_a_long_lived_order_keeps_a_bounded_few() -> None:
    table = OrderTable(coin="BTC")
    rested_and_modified(table, modifies=500)
    held_while_resting = table.tracked_venue_ids

    table.on_venue_event(
        OrderCancelled(
            cloid=CLOID, reason=CancelReason.REQUOTE, ts_exchange=T0 + 1_000, ts_local=T0 + 1_000
        )
    )

    assert held_while_resting == MAX_LEGS_KEPT
    assert table.tracked_venue_ids == 0, "ids of the order's earlier legs outlived it"


def test_a_modify_that_cut_the_size_and_filled_before_its_answer_leaves_the_order_filled() -> None:
    # The order rests for 1; a modify moves it to 101 for 0.25 and the new leg (oid 9)
    # fills at once: its fill comes before any word that the modify took effect.
    table = OrderTable(coin="BTC")
    rested_and_modified(table, modifies=0)
    cut = OrderAmendment(cloid=CLOID, price=d("101"), size=d("0.25"))
    table.mark_pending_modify([cut], T0 + 1)
    table.drain_changes()
    new_leg = fill("t9", Side.BUY, "101", "0.25", cloid=CLOID, ts=T0 + 2)

    changes = table.on_fill(dataclasses.replace(new_leg, venue_order_id=9))

    assert table.get(CLOID) is None, "no part of the order rests"
    assert [(c.status, c.price, c.size) for c in changes if isinstance(c, OrderStateChanged)] == [
        (OrderStatus.FILLED, d("101"), d("0"))
    ]


def test_a_fill_of_the_leg_a_modify_is_replacing_keeps_the_old_size() -> None:
    table = OrderTable(coin="BTC")
    rested_and_modified(table, modifies=0)
    table.mark_pending_modify([OrderAmendment(cloid=CLOID, price=d("101"), size=d("0.25"))], T0)
    old_leg = fill("t1", Side.BUY, "100", "0.5", cloid=CLOID, ts=T0 + 2)

    table.on_fill(dataclasses.replace(old_leg, venue_order_id=1))

    order = table.get(CLOID)
    assert order is not None
    assert (order.status, order.price, order.remaining) == (
        OrderStatus.PENDING_MODIFY,
        d("100"),
        d("0.5"),
    )
