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

from collections.abc import Sequence
from dataclasses import replace

from makerd.protocol.orders import (
    CancelReason,
    OpenOrdersReported,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderStatus,
)
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.lifetimes import ActionLifetime
from makerd.venues.hyperliquid.modify_answers import modify_answered
from makerd.venues.hyperliquid.order_reports import order_events
from makerd.venues.hyperliquid.pending_fills import PendingFills
from makerd.venues.hyperliquid.state import OrderLegs
from tests.test_hl_live_units import a_fill
from tests.test_hl_modify_lost import (
    CLOID,
    NEW_OID,
    OLD_OID,
    T0,
    S,
    order_request,
    resting_with_lost_modify,
    stream_report,
)
from tests.test_order_table_listing import listing as listed_at

MS = 1_000_000
HOLD_NS = 2 * S
NEWER_OID = 102
REQUEST = order_request(CLOID)
"""What :func:`resting_with_lost_modify` placed: it rests as ``OLD_OID`` (heard at ``T0``)
and its modify, decided and sent at ``T0``, had no answer; the venue may run that modify
until its lifetime is over (``T0`` + 5 s)."""


def listing(oid: int, *, asked_ns: int, heard_ns: int) -> OpenOrdersReported:
    """A ``frontendOpenOrders`` listing of the order on the leg ``oid``."""
    return listed_at(oid, "99", "1", asked_ns=asked_ns, heard_ns=heard_ns, cloid=CLOID)


def moved_to(events: Sequence[object]) -> list[int | None]:
    """Each event's leg: an ``OrderModified``'s new oid, None for any other event."""
    return [e.venue_order_id if isinstance(e, OrderModified) else None for e in events]


def test_a_listing_naming_a_lost_modifys_leg_releases_its_held_fill_with_the_cloid_at_once() -> (
    None
):
    legs = resting_with_lost_modify()
    held = PendingFills(hold_ns=HOLD_NS)
    held.hold(a_fill(NEW_OID, at_ns=T0 + S))

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

    assert moved_to(late) == [NEW_OID], "the listing told the order manager; this is news"
    assert again == []


def test_a_listing_naming_the_order_on_another_side_or_coin_moves_nothing() -> None:
    legs = resting_with_lost_modify()
    ours = listing(NEW_OID, asked_ns=T0 + 2 * S, heard_ns=T0 + 2 * S + MS)
    (order,) = ours.orders

    for garbled in (replace(order, side=Side.SELL), replace(order, coin="ETH")):
        assert not legs.listed(replace(ours, orders=(garbled,)))

    assert legs.oid_of(CLOID) == OLD_OID
    assert legs.cloid_of(NEW_OID) is None, "its fills are not ours to claim"


def test_a_listing_asked_before_the_stream_ended_the_leg_does_not_bring_it_back() -> None:
    legs = resting_with_lost_modify()
    order_events(stream_report(NEW_OID, OrderStatus.CANCELLED, T0 + 2 * S), CLOID, legs)

    took = legs.listed(listing(NEW_OID, asked_ns=T0 + S, heard_ns=T0 + 2 * S + MS))

    assert not took
    assert legs.oid_of(CLOID) == OLD_OID


def test_a_listing_asked_before_the_stream_ended_the_old_leg_still_takes_the_new_one() -> None:
    legs = resting_with_lost_modify()
    order_events(stream_report(OLD_OID, OrderStatus.CANCELLED, T0 + 2 * S), CLOID, legs)

    took = legs.listed(listing(NEW_OID, asked_ns=T0 + S, heard_ns=T0 + 2 * S + MS))
    cancel = order_events(stream_report(NEW_OID, OrderStatus.CANCELLED, T0 + 3 * S), CLOID, legs)

    assert took, "the old leg's end names no leg the order rests on"
    assert [type(e) for e in cancel] == [OrderCancelled]


def test_a_listing_asked_before_the_stream_ended_a_leg_after_the_modify_expired_ignores_it() -> (
    None
):
    legs = resting_with_lost_modify()
    lapsed = T0 + 5 * S
    order_events(stream_report(NEW_OID, OrderStatus.CANCELLED, lapsed), CLOID, legs)

    took = legs.listed(listing(NEW_OID, asked_ns=lapsed - MS, heard_ns=lapsed + MS))

    assert not took, "the stream ended that leg"
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
    assert moved_to(answer) == [NEWER_OID]
    assert legs.oid_of(CLOID) == NEWER_OID


def test_a_listed_placement_whose_answer_was_lost_claims_its_fills_and_is_accepted_once() -> None:
    legs = OrderLegs()
    legs.placing(REQUEST)
    legs.placement_in_doubt([CLOID], until=ActionLifetime(expires_ns=T0 + 4 * S))
    held = PendingFills(hold_ns=HOLD_NS)
    held.hold(a_fill(NEW_OID, at_ns=T0 + S))

    legs.listed(listing(NEW_OID, asked_ns=T0 + S, heard_ns=T0 + S + MS))
    released = held.release(legs, T0 + S + 2 * MS)
    opened = order_events(stream_report(NEW_OID, OrderStatus.OPEN, T0 + 2 * S), CLOID, legs)
    again = order_events(stream_report(NEW_OID, OrderStatus.OPEN, T0 + 2 * S + MS), CLOID, legs)

    assert [fill.cloid for fill in released] == [CLOID]
    assert [type(e) for e in opened] == [OrderAccepted], "the listing said nothing to anyone"
    assert again == []


def test_a_placement_only_a_listing_showed_can_be_modified_after_its_action_expired() -> None:
    legs = OrderLegs()
    legs.placing(REQUEST)
    legs.placement_in_doubt([CLOID], until=ActionLifetime(expires_ns=T0 + 4 * S))
    legs.listed(listing(NEW_OID, asked_ns=T0 + S, heard_ns=T0 + S + MS))

    legs.forget_lapsed(T0 + 6 * S)

    assert legs.request_of(CLOID) == REQUEST, "a modify resends the request's fields"
    assert legs.modify_started(CLOID) == NEW_OID, "a modify finds the leg it replaces"
