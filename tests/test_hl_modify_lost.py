"""A modify whose answer was lost stays on its way until its action expires, and no longer.

The venue may still run such a modify until its ``expiresAfter`` (plus the clock skew
allowed): till then the stream's cancel of the leg it replaces is its doing, not the
order's end (``tests/test_hl_modify_leg_race.py`` has the race against the local venue).
After that the modify can no longer take effect, and the adapter's books say so: a
cancel of the order's leg ends the order, and an order whose leg the stream ended while
no new leg came is not kept. Driven here on :class:`OrderLegs` alone, with the stream's
reports as the adapter parses them.
"""

from __future__ import annotations

from decimal import Decimal

from makerd.protocol.orders import (
    ACTION_TTL_NS,
    CLOCK_SKEW_NS,
    CancelReason,
    OrderCancelled,
    OrderModified,
    OrderRequest,
    OrderStatus,
)
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.lifetimes import ActionLifetime
from makerd.venues.hyperliquid.order_reports import order_events
from makerd.venues.hyperliquid.parse import OrderStatusReported
from makerd.venues.hyperliquid.state import OrderLegs
from tests.state_census import census

S = 1_000_000_000
T0 = 1_700_000_000 * S
LAPSED = T0 + ACTION_TTL_NS + CLOCK_SKEW_NS
"""When an action decided at ``T0`` can no longer take effect."""
SENT_AT_T0 = ActionLifetime(expires_ns=T0 + ACTION_TTL_NS, sent_mono_ns=0)
"""The lifetime of an action decided and sent at ``T0``, at 0 on the monotonic clock."""
STEPPED = T0 + S + 60 * S
"""1 s after ``T0``, read on a wall clock NTP stepped 60 s forward."""
CLOID = "0x" + "00" * 15 + "42"
OLD_OID, NEW_OID = 100, 101


def resting_with_lost_modify(legs: OrderLegs | None = None) -> OrderLegs:
    """An order resting as :data:`OLD_OID` whose modify (decided and sent at T0, at 0 on
    the monotonic clock) had no answer."""
    legs = legs or OrderLegs()
    legs.placing(order_request(CLOID))
    legs.opened(CLOID, OLD_OID, heard_ns=T0)
    replaced = legs.modify_started(CLOID)
    legs.modify_finished(CLOID, replaced, lost_until=SENT_AT_T0)
    return legs


def order_request(cloid: str) -> OrderRequest:
    return OrderRequest(cloid=cloid, coin="BTC", side=Side.BUY, price=Decimal(100), size=Decimal(1))


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
        venue_status="canceled" if status is OrderStatus.CANCELLED else "open",
        reject_reason=None,
        ts_exchange=at_ns,
        ts_local=at_ns,
    )


def test_a_lost_modify_the_venue_ran_moves_the_order_to_its_new_leg() -> None:
    legs = resting_with_lost_modify()

    old_leg = order_events(stream_report(OLD_OID, OrderStatus.CANCELLED, T0 + 1), CLOID, legs)
    new_leg = order_events(stream_report(NEW_OID, OrderStatus.OPEN, T0 + 2), CLOID, legs)

    assert old_leg == [], "the old leg's cancel is the modify's doing"
    assert [(type(e), getattr(e, "venue_order_id", None)) for e in new_leg] == [
        (OrderModified, NEW_OID)
    ]
    assert legs.oid_of(CLOID) == NEW_OID


def test_once_a_lost_modify_expired_a_cancel_of_the_order_ends_it() -> None:
    legs = resting_with_lost_modify()

    events = order_events(stream_report(OLD_OID, OrderStatus.CANCELLED, LAPSED), CLOID, legs)

    assert events == [
        OrderCancelled(cloid=CLOID, reason=CancelReason.RISK, ts_exchange=LAPSED, ts_local=LAPSED)
    ]
    assert legs.live_cloids() == []


def test_an_order_whose_old_leg_ended_and_whose_new_leg_never_came_is_forgotten() -> None:
    legs = resting_with_lost_modify()
    order_events(stream_report(OLD_OID, OrderStatus.CANCELLED, T0 + 1), CLOID, legs)
    kept_in_doubt = legs.live_cloids()

    legs.forget_lapsed(LAPSED)

    assert kept_in_doubt == [CLOID], "its new leg may yet be reported"
    assert legs.live_cloids() == [], "the venue refuses the modify now: no leg rests"
    assert max(census({"legs": legs}).values(), default=0) <= 1


def test_lost_modifies_are_not_remembered_past_their_expiry() -> None:
    legs = resting_with_lost_modify()
    for n in range(50):
        replaced = legs.modify_started(CLOID)
        legs.modify_finished(CLOID, replaced, lost_until=ActionLifetime(expires_ns=T0 + n))

    legs.forget_lapsed(LAPSED + 50)

    assert census({"legs": legs})["legs._modifies_in_doubt"] == 0
    assert legs.oid_of(CLOID) == OLD_OID, "the order rests on as it did"
    assert not legs.is_old_leg(CLOID, OLD_OID), "its cancel now ends the order"


class MonotonicClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now_ns = 0

    def __call__(self) -> int:
        return self.now_ns


def test_a_forward_step_of_the_wall_clock_does_not_end_a_lost_modify_early() -> None:
    monotonic = MonotonicClock()
    legs = resting_with_lost_modify(OrderLegs(monotonic_ns=monotonic))
    monotonic.now_ns = S  # 1 s since the modify left

    old_leg = order_events(stream_report(OLD_OID, OrderStatus.CANCELLED, STEPPED), CLOID, legs)
    new_leg = order_events(stream_report(NEW_OID, OrderStatus.OPEN, STEPPED), CLOID, legs)

    assert old_leg == [], "the venue may still run the modify: the cancel is its doing"
    assert [type(e) for e in new_leg] == [OrderModified]
    assert legs.oid_of(CLOID) == NEW_OID


def test_a_forward_step_of_the_wall_clock_does_not_forget_a_lost_placement_early() -> None:
    monotonic = MonotonicClock()
    legs = OrderLegs(monotonic_ns=monotonic)
    legs.placing(order_request(CLOID))
    legs.placement_in_doubt([CLOID], until=SENT_AT_T0)
    monotonic.now_ns = S

    legs.forget_lapsed(STEPPED)

    assert legs.request_of(CLOID) == order_request(CLOID), "a report may yet open it"


def test_a_lost_modify_ends_once_its_lifetime_passed_on_both_clocks() -> None:
    monotonic = MonotonicClock()
    legs = resting_with_lost_modify(OrderLegs(monotonic_ns=monotonic))
    monotonic.now_ns = ACTION_TTL_NS + CLOCK_SKEW_NS

    events = order_events(stream_report(OLD_OID, OrderStatus.CANCELLED, STEPPED), CLOID, legs)

    assert [type(e) for e in events] == [OrderCancelled]
    assert census({"legs": legs})["legs._modifies_in_doubt"] == 0
