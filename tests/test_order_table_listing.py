"""A listing that shows an order's leg gives the order table the venue's price and size.

On Hyperliquid a modify replaces the order's leg with a new one (a new oid, the same
cloid). When the modify's answer and the stream's reports of the new leg are all lost,
only a listing shows where the order rests. The table must then price and size the order
as the venue holds it, and never let a listing asked before a newer confirmed modify take
the order back to an older leg (docs/invariants.md, section 3).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from makerd.actors.managed_order import EXCHANGE_CLOCK_AHEAD_NS
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
from tests.kit import MS, T0, S, d, fill
from tests.test_order_table_legs import CLOID, rested_and_modified

FIRST_LEG, NEW_LEG, NEWER_LEG = 1, 12, 13
"""The leg :func:`resting_at_100_for_1` rests on, and two a modify may give it."""


def resting_at_100_for_1(table: OrderTable) -> None:
    rested_and_modified(table, modifies=0)  # a bid for 1 at 100, resting as FIRST_LEG


def modified(table: OrderTable, leg: int, price: str, at_ns: int) -> None:
    """The venue confirms a modify of the order to ``price`` (size 1) as ``leg``."""
    confirmed = OrderModified(
        cloid=CLOID,
        venue_order_id=leg,
        price=d(price),
        size=d("1"),
        ts_exchange=at_ns,
        ts_local=at_ns,
    )
    table.on_venue_event(confirmed)


def modify_sent(table: OrderTable, price: str, size: str, at_ns: int) -> None:
    table.mark_pending_modify([OrderAmendment(cloid=CLOID, price=d(price), size=d(size))], at_ns)


def listing(
    leg: int, price: str, size: str, *, asked_ns: int, heard_ns: int, cloid: str = CLOID
) -> OpenOrdersReported:
    """A listing of the order ``cloid`` on ``leg``, asked at ``asked_ns``."""
    listed = OpenOrder(
        cloid=cloid,
        venue_order_id=leg,
        coin="BTC",
        side=Side.BUY,
        price=d(price),
        size=d(size),
    )
    return OpenOrdersReported(coin="BTC", orders=(listed,), ts_exchange=asked_ns, ts_local=heard_ns)


def where_it_rests(table: OrderTable) -> tuple[OrderStatus, int | None, Decimal, Decimal]:
    order = table.get(CLOID)
    assert order is not None, "the order rests at the venue but the table forgot it"
    return order.status, order.venue_order_id, order.price, order.remaining


def test_a_lost_modify_whose_new_leg_only_a_listing_shows_takes_the_venues_price_and_size() -> None:
    table = OrderTable(coin="BTC")
    resting_at_100_for_1(table)
    modify_sent(table, "99", "0.5", T0 + S)
    table.expire_pending(now_ns=T0 + 6 * S, timeout_ns=S)  # the answer never came
    table.drain_changes()

    _, changes = table.reconcile(
        listing(NEW_LEG, "99", "0.5", asked_ns=T0 + 7 * S, heard_ns=T0 + 8 * S)
    )

    assert where_it_rests(table) == (OrderStatus.OPEN, NEW_LEG, d("99"), d("0.5"))
    order = table.get(CLOID)
    assert order is not None
    assert order.priced_ns == T0 + 8 * S, "the new leg lost the old one's queue place"
    said = [(c.status, c.price, c.size) for c in changes if isinstance(c, OrderStateChanged)]
    assert said == [(OrderStatus.OPEN, d("99"), d("0.5"))], "observers were told the old price"


@pytest.mark.parametrize(
    ("listed", "rests"),
    [
        # The modify ran: the order rests at its price and size, its answer still to come.
        ((NEW_LEG, "101", "2"), (OrderStatus.OPEN, NEW_LEG, d("101"), d("2"))),
        # The listing came before the modify ran: it is still on its way.
        ((FIRST_LEG, "100", "1"), (OrderStatus.PENDING_MODIFY, FIRST_LEG, d("100"), d("1"))),
    ],
    ids=["new_leg_listed", "old_leg_listed"],
)
def test_a_modify_on_its_way_rests_at_the_listed_price_once_a_listing_shows_it_ran(
    listed: tuple[int, str, str], rests: tuple[OrderStatus, int, Decimal, Decimal]
) -> None:
    table = OrderTable(coin="BTC")
    resting_at_100_for_1(table)
    modify_sent(table, "101", "2", T0 + S)
    leg, price, size = listed

    table.reconcile(listing(leg, price, size, asked_ns=T0 + 2 * S, heard_ns=T0 + 2 * S))

    assert where_it_rests(table) == rests


def test_a_listing_asked_before_a_confirmed_modify_does_not_undo_it() -> None:
    # Two modifies: the first's answer is lost (leg 12 at 99), the second's comes (leg 13
    # at 98) while a listing asked before it, which shows leg 12, is on its way.
    table = OrderTable(coin="BTC")
    resting_at_100_for_1(table)
    modified(table, NEWER_LEG, "98", T0 + 3 * S)

    table.reconcile(listing(NEW_LEG, "99", "1", asked_ns=T0 + 2 * S, heard_ns=T0 + 4 * S))

    assert where_it_rests(table) == (OrderStatus.OPEN, NEWER_LEG, d("98"), d("1"))


def test_an_order_in_doubt_listed_on_a_leg_it_left_is_not_taken_back_to_that_leg() -> None:
    table = OrderTable(coin="BTC")
    resting_at_100_for_1(table)
    modified(table, NEW_LEG, "99", T0 + 3 * S)
    table.mark_unknown(CLOID, T0 + 4 * S)  # a cancel the venue refused

    table.reconcile(listing(FIRST_LEG, "100", "1", asked_ns=T0 + 2 * S, heard_ns=T0 + 5 * S))

    status, leg, price, _ = where_it_rests(table)
    assert (leg, price) == (NEW_LEG, d("99")), "an old listing moved the order back a leg"
    assert status is OrderStatus.UNKNOWN, "a listing older than what we know settles nothing"


def test_a_fill_of_the_new_leg_heard_before_the_listing_counts_once_it_is_named() -> None:
    # The new leg fills 0.2 of 0.5; the fill names no cloid and an oid nobody had.
    table = OrderTable(coin="BTC")
    resting_at_100_for_1(table)
    modify_sent(table, "99", "0.5", T0 + S)
    table.expire_pending(now_ns=T0 + 6 * S, timeout_ns=S)
    early = fill("t1", Side.BUY, "99", "0.2", ts=T0 + 2 * S)
    table.on_fill(dataclasses.replace(early, venue_order_id=NEW_LEG))

    table.reconcile(listing(NEW_LEG, "99", "0.3", asked_ns=T0 + 7 * S, heard_ns=T0 + 8 * S))

    assert where_it_rests(table) == (OrderStatus.OPEN, NEW_LEG, d("99"), d("0.3"))
    order = table.get(CLOID)
    assert order is not None
    assert order.filled == d("0.2")


def test_a_fill_of_the_new_leg_heard_after_the_listing_is_counted_once() -> None:
    # The venue filled 0.2 of the new leg before it listed 0.3 resting; we hear it after.
    table = OrderTable(coin="BTC")
    resting_at_100_for_1(table)
    modify_sent(table, "99", "0.5", T0 + S)
    table.expire_pending(now_ns=T0 + 6 * S, timeout_ns=S)
    table.reconcile(listing(NEW_LEG, "99", "0.3", asked_ns=T0 + 7 * S, heard_ns=T0 + 8 * S))

    late = fill("t1", Side.BUY, "99", "0.2", ts=T0 + 8 * S + MS)
    table.on_fill(dataclasses.replace(late, venue_order_id=NEW_LEG))

    assert where_it_rests(table) == (OrderStatus.OPEN, NEW_LEG, d("99"), d("0.3"))


def test_a_listing_of_the_current_leg_at_a_smaller_size_leaves_the_size_to_the_fill() -> None:
    # A fill in flight: the venue lists 0.4 resting, the stream brings the 0.6 fill after.
    table = OrderTable(coin="BTC")
    resting_at_100_for_1(table)
    table.reconcile(listing(FIRST_LEG, "100", "0.4", asked_ns=T0 + S, heard_ns=T0 + S))

    in_flight = fill("t1", Side.BUY, "100", "0.6", ts=T0 + 2 * S)
    table.on_fill(dataclasses.replace(in_flight, venue_order_id=FIRST_LEG))

    assert where_it_rests(table) == (OrderStatus.OPEN, FIRST_LEG, d("100"), d("0.4"))


def test_a_fill_of_the_new_leg_heard_twice_before_the_listing_counts_once() -> None:
    table = OrderTable(coin="BTC")
    resting_at_100_for_1(table)
    modify_sent(table, "99", "0.5", T0 + S)
    table.expire_pending(now_ns=T0 + 6 * S, timeout_ns=S)
    pushed = dataclasses.replace(fill("t1", Side.BUY, "99", "0.2"), venue_order_id=NEW_LEG)
    table.on_fill(pushed)
    table.on_fill(dataclasses.replace(pushed, late=True))  # the same trade, repaired

    table.reconcile(listing(NEW_LEG, "99", "0.3", asked_ns=T0 + 7 * S, heard_ns=T0 + 8 * S))

    assert where_it_rests(table) == (OrderStatus.OPEN, NEW_LEG, d("99"), d("0.3"))


NOT_OURS_ASKED, NOT_OURS_HEARD = T0 + 7 * S, T0 + 7 * S + 100 * MS
"""When the listing of :func:`listed_on_a_leg_not_ours` was asked and heard (host clock)."""


def listed_on_a_leg_not_ours(table: OrderTable) -> None:
    """The bid for 1 at 100 listed on a leg no modify on its way explains (a trader's by hand
    under its cloid, or a modify given up on), at 99 with 0.6 resting: the listed size."""
    resting_at_100_for_1(table)
    table.reconcile(listing(NEW_LEG, "99", "0.6", asked_ns=NOT_OURS_ASKED, heard_ns=NOT_OURS_HEARD))
    assert where_it_rests(table) == (OrderStatus.OPEN, NEW_LEG, d("99"), d("0.6"))


def fill_of_new_leg(trade_id: str, size: str, *, made_ns: int) -> OrderFilled:
    """A fill of ``NEW_LEG`` the exchange made at ``made_ns`` (its clock), heard after the
    listing."""
    made = fill(trade_id, Side.BUY, "99", size, ts=made_ns)
    return dataclasses.replace(made, venue_order_id=NEW_LEG, ts_local=NOT_OURS_HEARD + S)


@pytest.mark.parametrize(
    "made_ns",
    [NOT_OURS_ASKED - S, NOT_OURS_HEARD + 3 * S],
    ids=["before_the_listing_was_asked", "by_an_exchange_clock_3s_ahead_of_the_host"],
)
def test_a_fill_a_listed_size_already_left_out_is_not_taken_off_it_again(made_ns: int) -> None:
    table = OrderTable(coin="BTC")
    listed_on_a_leg_not_ours(table)

    table.on_fill(fill_of_new_leg("t1", "0.2", made_ns=made_ns))

    assert where_it_rests(table) == (OrderStatus.OPEN, NEW_LEG, d("99"), d("0.6")), (
        "a fill the venue had made before it listed 0.6 was taken off the 0.6 again"
    )


def test_a_fill_of_a_leg_not_ours_heard_before_its_listing_is_not_taken_off_it() -> None:
    table = OrderTable(coin="BTC")
    resting_at_100_for_1(table)
    heard_first = fill("t1", Side.BUY, "99", "0.2", ts=NOT_OURS_ASKED - S)
    table.on_fill(dataclasses.replace(heard_first, venue_order_id=NEW_LEG))  # nobody's yet

    table.reconcile(listing(NEW_LEG, "99", "0.6", asked_ns=NOT_OURS_ASKED, heard_ns=NOT_OURS_HEARD))

    assert where_it_rests(table) == (OrderStatus.OPEN, NEW_LEG, d("99"), d("0.6"))


def test_a_fill_made_after_the_listing_of_a_leg_not_ours_shrinks_the_order() -> None:
    table = OrderTable(coin="BTC")
    listed_on_a_leg_not_ours(table)

    made_after = NOT_OURS_HEARD + EXCHANGE_CLOCK_AHEAD_NS + MS
    table.on_fill(fill_of_new_leg("t1", "0.2", made_ns=made_after))

    assert where_it_rests(table) == (OrderStatus.OPEN, NEW_LEG, d("99"), d("0.4"))


def test_fills_made_before_the_listing_never_make_the_table_forget_the_order_it_lists() -> None:
    # The venue filled 0.2 three times before it listed 0.6 resting; we hear them after.
    table = OrderTable(coin="BTC")
    listed_on_a_leg_not_ours(table)

    for trade in ("t1", "t2", "t3"):
        table.on_fill(fill_of_new_leg(trade, "0.2", made_ns=NOT_OURS_ASKED - S))
    again = listing(NEW_LEG, "99", "0.6", asked_ns=T0 + 9 * S, heard_ns=T0 + 9 * S)
    orphans, _ = table.reconcile(again)

    assert where_it_rests(table) == (OrderStatus.OPEN, NEW_LEG, d("99"), d("0.6"))
    assert not orphans, "the order was forgotten as filled and its next listing an orphan's"
