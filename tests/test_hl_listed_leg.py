"""The live adapter learns an order's leg from a listing when nothing else named it.

A modify whose ``/exchange`` answer and ``orderUpdates`` reports were all lost leaves the
order resting on a leg only a ``frontendOpenOrders`` listing shows. The adapter used to
keep the old oid: fills of the new leg waited out the whole hold (2 s) and reached the
order manager without a cloid, and the new leg's end (a cancel the venue made) was taken
for a replaced leg's and told nobody, so the order manager believed the order rested
until its next audit. Driven here on :class:`OrderLegs` and :class:`PendingFills` alone,
with the stream's reports and the listings as the adapter parses them
(``tests/test_hl_modify_lost_listing.py`` has the race against the local venue).
"""

from __future__ import annotations

from decimal import Decimal

from makerd.protocol.account import Liquidity, OrderFilled
from makerd.protocol.orders import (
    CancelReason,
    OpenOrder,
    OpenOrdersReported,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderRequest,
    OrderStatus,
)
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.lifetimes import ActionLifetime
from makerd.venues.hyperliquid.modify_answers import modify_answered
from makerd.venues.hyperliquid.order_reports import order_events
from makerd.venues.hyperliquid.parse import OrderStatusReported
from makerd.venues.hyperliquid.state import OrderLegs, PendingFills

S = 1_000_000_000
MS = 1_000_000
T0 = 1_700_000_000 * S
HOLD_NS = 2 * S
CLOID = "0x" + "00" * 15 + "42"
OLD_OID, NEW_OID, NEWER_OID = 100, 101, 102
REQUEST = OrderRequest(cloid=CLOID, coin="BTC", side=Side.BUY, price=Decimal(100), size=Decimal(1))


def resting_with_lost_modify() -> OrderLegs:
    """An order resting as :data:`OLD_OID` (heard at T0) whose modify, decided and sent at
    T0, had no answer: the venue may run it until its lifetime is over (T0 + 5 s)."""
    legs = OrderLegs()
    legs.placing(REQUEST)
    legs.opened(CLOID, OLD_OID, heard_ns=T0)
    replaced = legs.modify_started(CLOID)
    legs.modify_finished(CLOID, replaced, lost_until=ActionLifetime(expires_ns=T0 + 4 * S))
    return legs


def listing(oid: int, *, asked_ns: int, heard_ns: int) -> OpenOrdersReported:
    """A ``frontendOpenOrders`` listing of the order on the leg ``oid``."""
    order = OpenOrder(
        cloid=CLOID,
        venue_order_id=oid,
        coin="BTC",
        side=Side.BUY,
        price=Decimal(99),
        size=Decimal(1),
    )
    return OpenOrdersReported(coin="BTC", orders=(order,), ts_exchange=asked_ns, ts_local=heard_ns)


def stream_report(oid: int, status: OrderStatus, at_ns: int) -> OrderStatusReported:
    """The stream's report of the leg ``oid``, heard at ``at_ns``."""
    return OrderStatusReported(
        cloid=CLOID,
        venue_order_id=oid,
        coin="BTC",
        side=Side.BUY,
        price=Decimal(99),
        size=Decimal(1),
        original_size=Decimal(1),
        status=status,
        venue_status=status.value,
        reject_reason=None,
        ts_exchange=at_ns,
        ts_local=at_ns,
    )


def fill_of(oid: int, at_ns: int) -> OrderFilled:
    """A fill as the exchange reports it: by oid, without a cloid."""
    return OrderFilled(
        trade_id=f"BTC:{oid}:{at_ns}",
        cloid=None,
        venue_order_id=oid,
        coin="BTC",
        side=Side.BUY,
        price=Decimal(99),
        size=Decimal("0.5"),
        fee=Decimal(0),
        liquidity=Liquidity.MAKER,
        ts_exchange=at_ns,
        ts_local=at_ns,
    )


def test_a_listing_naming_a_lost_modifys_leg_releases_its_held_fill_with_the_cloid_at_once() -> (
    None
):
    legs = resting_with_lost_modify()
    held = PendingFills(hold_ns=HOLD_NS)
    held.hold(fill_of(NEW_OID, T0 + S))

    took = legs.listed(listing(NEW_OID, asked_ns=T0 + 2 * S, heard_ns=T0 + 2 * S + MS))
    released = held.release(legs, T0 + 2 * S + 2 * MS)

    assert [fill.cloid for fill in released] == [CLOID], "the fill waited as nobody's"
    assert took, "the listing named a leg of ours nothing else had"
    assert legs.oid_of(CLOID) == NEW_OID


def test_a_listing_asked_before_the_adapter_last_heard_of_the_orders_leg_never_moves_it_back() -> (
    None
):
    legs = resting_with_lost_modify()
    legs.listed(listing(NEW_OID, asked_ns=T0 + 2 * S, heard_ns=T0 + 2 * S + MS))
    replaced = legs.modify_started(CLOID)  # a second modify, answered at T0 + 3 s
    legs.modify_finished(CLOID, replaced)
    legs.opened(CLOID, NEWER_OID, heard_ns=T0 + 3 * S)

    older = legs.listed(listing(NEW_OID, asked_ns=T0 + 2 * S + 500 * MS, heard_ns=T0 + 4 * S))
    had_before = legs.listed(listing(OLD_OID, asked_ns=T0 + 5 * S, heard_ns=T0 + 5 * S + MS))

    assert not older, "a listing asked before the answer that named the newer leg"
    assert not had_before, "a leg the order had before the one it rests on"
    assert legs.oid_of(CLOID) == NEWER_OID


def test_the_listed_legs_cancel_is_one_cancel_of_the_order_and_a_duplicate_stays_silent() -> None:
    legs = resting_with_lost_modify()
    legs.listed(listing(NEW_OID, asked_ns=T0 + 2 * S, heard_ns=T0 + 2 * S + MS))

    at = T0 + 3 * S  # the lost modify is not over yet: it made this leg
    cancel = order_events(stream_report(NEW_OID, OrderStatus.CANCELLED, at), CLOID, legs)
    again = order_events(stream_report(NEW_OID, OrderStatus.CANCELLED, at + MS), CLOID, legs)

    assert cancel == [
        OrderCancelled(cloid=CLOID, reason=CancelReason.RISK, ts_exchange=at, ts_local=at)
    ]
    assert again == [], "the same end reported twice is news once"
    assert legs.live_cloids() == []


def test_the_first_report_naming_the_listed_leg_still_says_the_order_moved_and_only_once() -> None:
    legs = resting_with_lost_modify()
    legs.listed(listing(NEW_OID, asked_ns=T0 + 2 * S, heard_ns=T0 + 2 * S + MS))

    late = order_events(stream_report(NEW_OID, OrderStatus.OPEN, T0 + 3 * S), CLOID, legs)
    again = order_events(stream_report(NEW_OID, OrderStatus.OPEN, T0 + 3 * S + MS), CLOID, legs)

    assert [(type(e), getattr(e, "venue_order_id", None)) for e in late] == [
        (OrderModified, NEW_OID)
    ], "the listing told the order manager itself; the report is its news, as before"
    assert again == []


def test_a_listing_asked_before_the_stream_ended_the_leg_does_not_bring_it_back() -> None:
    legs = resting_with_lost_modify()
    order_events(stream_report(NEW_OID, OrderStatus.CANCELLED, T0 + 2 * S), CLOID, legs)

    took = legs.listed(listing(NEW_OID, asked_ns=T0 + S, heard_ns=T0 + 2 * S + MS))

    assert not took
    assert legs.oid_of(CLOID) == OLD_OID


def test_while_another_modify_is_on_its_way_the_listed_legs_cancel_is_left_to_its_answer() -> None:
    # Two modifies on their way: the lost one made the listed leg, and the second may
    # replace it, so the stream's cancel of that leg is not the order's end.
    legs = resting_with_lost_modify()
    replaced = legs.modify_started(CLOID)
    legs.listed(listing(NEW_OID, asked_ns=T0 + 2 * S, heard_ns=T0 + 2 * S + MS))

    cancel = order_events(stream_report(NEW_OID, OrderStatus.CANCELLED, T0 + 3 * S), CLOID, legs)
    legs.modify_finished(CLOID, replaced)
    answer = modify_answered(REQUEST, NEWER_OID, legs, now_ns=T0 + 3 * S + MS)

    assert cancel == [], "the second modify's doing"
    assert [(type(e), getattr(e, "venue_order_id", None)) for e in answer] == [
        (OrderModified, NEWER_OID)
    ]
    assert legs.oid_of(CLOID) == NEWER_OID


def test_a_listed_placement_whose_answer_was_lost_claims_its_fills_and_is_accepted_once() -> None:
    legs = OrderLegs()
    legs.placing(REQUEST)
    legs.placement_in_doubt([CLOID], until=ActionLifetime(expires_ns=T0 + 4 * S))
    held = PendingFills(hold_ns=HOLD_NS)
    held.hold(fill_of(NEW_OID, T0 + S))

    legs.listed(listing(NEW_OID, asked_ns=T0 + S, heard_ns=T0 + S + MS))
    released = held.release(legs, T0 + S + 2 * MS)
    opened = order_events(stream_report(NEW_OID, OrderStatus.OPEN, T0 + 2 * S), CLOID, legs)

    assert [fill.cloid for fill in released] == [CLOID]
    assert [type(e) for e in opened] == [OrderAccepted], "the listing said nothing to anyone"
