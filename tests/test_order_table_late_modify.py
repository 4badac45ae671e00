"""A modify's answer that comes after its new leg was already named never undoes what the
table learned since.

A modify's new leg can fill, or be listed, before the answer that says the modify took
effect: the venue answers the HTTP request after its stream has reported the fill, or the
answer waits behind a slow connection. The table then already moved the order to that leg
at the modify's size and counted the fill. The late answer says the leg was born at that
size; taken as "the order now rests for that size", it added the fill back, and the order
was believed bigger than it rests (one more resting size counted against the open-order
bound, one more to cancel at a stop). Worse, the answer of an earlier modify coming after
a later one took the order back to the earlier leg.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from makerd.actors.order_state import OrderTable
from makerd.protocol.account import OrderFilled
from makerd.protocol.orders import (
    OpenOrder,
    OpenOrdersReported,
    OrderAmendment,
    OrderModified,
    OrderStateChanged,
    OrderStatus,
)
from makerd.protocol.side import Side
from tests.kit import T0, d, fill
from tests.test_order_table_legs import CLOID, rested_and_modified


def resting_for_one_on_leg_1() -> OrderTable:
    table = OrderTable(coin="BTC")
    rested_and_modified(table, modifies=0)
    table.drain_changes()
    return table


def quarter_filled_on_new_leg() -> OrderTable:
    """A modify to 101 on its way, and its new leg 9 has filled 0.25 of its 1."""
    table = resting_for_one_on_leg_1()
    modify(table, "101", T0 + 1)
    table.on_fill(fill_of_leg(9, "101", "0.25", T0 + 2))
    return table


def modify(table: OrderTable, price: str, at: int) -> None:
    table.mark_pending_modify([OrderAmendment(cloid=CLOID, price=d(price), size=d("1"))], at)


def fill_of_leg(leg: int, price: str, size: str, at: int) -> OrderFilled:
    made = fill(f"t{leg}-{at}", Side.BUY, price, size, cloid=CLOID, ts=at)
    return dataclasses.replace(made, venue_order_id=leg)


def answer(leg: int, price: str, at: int) -> OrderModified:
    return OrderModified(
        cloid=CLOID, venue_order_id=leg, price=d(price), size=d("1"), ts_exchange=at, ts_local=at
    )


def believed(table: OrderTable) -> tuple[OrderStatus, int | None, Decimal, Decimal]:
    order = table.get(CLOID)
    assert order is not None, "the order was forgotten while it rests"
    return order.status, order.venue_order_id, order.price, order.remaining


def test_a_fill_of_the_new_leg_before_the_modify_answer_stays_taken_off() -> None:
    table = quarter_filled_on_new_leg()

    changes = table.on_venue_event(answer(9, "101", T0 + 3))

    assert believed(table) == (OrderStatus.OPEN, 9, d("101"), d("0.75"))
    assert all(c.size == d("0.75") for c in changes if isinstance(c, OrderStateChanged))


def test_a_late_answer_leaves_the_next_modify_on_its_way() -> None:
    table = quarter_filled_on_new_leg()
    modify(table, "102", T0 + 3)

    table.on_venue_event(answer(9, "101", T0 + 4))

    assert believed(table) == (OrderStatus.PENDING_MODIFY, 9, d("101"), d("0.75"))
    order = table.get(CLOID)
    assert order is not None
    assert order.amend_to is not None
    assert order.amend_to.price == d("102"), "the modify on its way was dropped"


def test_an_earlier_modify_answered_after_a_later_one_does_not_take_the_order_back() -> None:
    table = quarter_filled_on_new_leg()
    modify(table, "102", T0 + 3)
    table.on_venue_event(answer(10, "102", T0 + 4))

    table.on_venue_event(answer(9, "101", T0 + 5))

    # The second modify's leg was born at its own size, 1.
    assert believed(table) == (OrderStatus.OPEN, 10, d("102"), d("1"))


def test_a_late_answer_of_a_leg_that_filled_whole_forgets_the_order_as_filled() -> None:
    table = resting_for_one_on_leg_1()
    modify(table, "101", T0 + 1)
    table.on_fill(fill_of_leg(9, "101", "0.5", T0 + 2))
    table.on_fill(fill_of_leg(9, "101", "0.5", T0 + 3))
    assert table.get(CLOID) is None

    assert table.on_venue_event(answer(9, "101", T0 + 4)) == []
    assert table.get(CLOID) is None, "a finished order came back to life"


def test_a_fill_heard_while_the_order_was_in_doubt_is_not_counted_twice() -> None:
    # The modify's answer is late enough that the order is in doubt; the new leg's fill
    # comes by cloid before anything names the leg, then the answer names it.
    table = resting_for_one_on_leg_1()
    modify(table, "101", T0 + 1)
    table.mark_unknown(CLOID, T0 + 2)
    table.on_fill(fill_of_leg(9, "101", "0.25", T0 + 3))

    table.on_venue_event(answer(9, "101", T0 + 4))

    assert believed(table) == (OrderStatus.OPEN, 9, d("101"), d("0.75"))


def test_a_listing_of_the_new_leg_then_its_late_answer_agree() -> None:
    table = quarter_filled_on_new_leg()
    listed = OpenOrder(
        cloid=CLOID, venue_order_id=9, coin="BTC", side=Side.BUY, price=d("101"), size=d("0.75")
    )
    table.reconcile(
        OpenOrdersReported(coin="BTC", orders=(listed,), ts_exchange=T0 + 3, ts_local=T0 + 3)
    )

    table.on_venue_event(answer(9, "101", T0 + 4))

    assert believed(table) == (OrderStatus.OPEN, 9, d("101"), d("0.75"))
