"""The live adapter forgets an order whose modify the venue refused after ending its old
leg, and a placement whose answer was lost once it can no longer execute.

A modify replaces the order's resting leg: the venue cancels the old one (the stream says
"canceled" for the old oid) and places the new one. If it then refuses the new one (a
post-only price that would cross, margin), the order is gone. The stream's report of the
old leg may come before the modify's answer, while the adapter still takes it for the
leg the modify replaces: it said nothing, and the order's leg stayed in
:class:`OrderLegs` for the rest of the run, one per such modify (121 after 16 minutes
of ``bench/bench_memory_growth.py``: a leak over weeks).

A placement whose answer never came kept its request for the rest of the run, though an
action the venue has not executed by its expiry never will be.
"""

from __future__ import annotations

import time

from makerd.protocol.orders import (
    ACTION_TTL_NS,
    CLOCK_SKEW_NS,
    ModifyOrders,
    ModifyRejected,
    OpenOrdersReported,
    OrderAccepted,
    OrderAmendment,
    OrderModified,
    PlaceOrders,
    RequestAccountSnapshot,
)
from makerd.protocol.rejections import RejectReason
from makerd.venues.hyperliquid.lifetimes import ActionLifetime
from makerd.venues.hyperliquid.order_reports import order_events
from makerd.venues.hyperliquid.parse import OrderStatusReported, parse_order_updates
from makerd.venues.hyperliquid.state import OrderLegs
from tests import test_hl_gateway
from tests.state_census import census
from tests.test_hl_gateway import Harness, fault, resting_bid

REFUSED_MODIFIES = 12
LOST_PLACEMENTS = 5
MODIFIES = 30

venue_url = test_hl_gateway.venue_url
"""The gateway tests' venue (a fixture: one for this module's tests)."""


class StreamFirstLegs(OrderLegs):
    """Real legs, fed the stream's report of each replaced leg's cancel just before the
    modify's answer is handled: the order in which the two often arrive."""

    def __init__(self) -> None:
        super().__init__()
        self.stream_events: list[object] = []

    def modify_finished(
        self, cloid: str, replaced: int | None, *, lost_until: ActionLifetime | None = None
    ) -> None:
        old_oid = self.oid_of(cloid)
        if old_oid is not None:
            self.stream_events += order_events(_cancelled_leg(cloid, old_oid), cloid, self)
        super().modify_finished(cloid, replaced, lost_until=lost_until)


def _cancelled_leg(cloid: str, oid: int) -> OrderStatusReported:
    """The stream's ``orderUpdates`` item saying the leg ``oid`` was cancelled, parsed."""
    now_ms = time.time_ns() // 1_000_000
    order = {"coin": "BTC", "side": "B", "limitPx": "1", "sz": "0", "oid": oid,
             "timestamp": now_ms, "origSz": "0.001", "cloid": cloid}  # fmt: skip
    update = {"order": order, "status": "canceled", "statusTimestamp": now_ms}
    (report,) = parse_order_updates([update], ts_local=time.time_ns())
    return report


def test_orders_whose_modify_was_refused_after_their_old_leg_ended_are_not_kept(
    venue_url: str,
) -> None:
    harness = Harness(venue_url, clock=time.time_ns)
    legs = harness.legs = StreamFirstLegs()
    orders = [resting_bid(venue_url, 900 + n) for n in range(REFUSED_MODIFIES)]
    # A post-only bid 1000 above a bid 200 under the touch would cross: the venue ends
    # the old leg, then refuses the new one.
    crossing = [OrderAmendment(cloid=o.cloid, price=o.price + 1000, size=o.size) for o in orders]

    events = harness.run(
        PlaceOrders(orders=tuple(orders), ts_local=time.time_ns()),
        *(ModifyOrders(amendments=(a,), ts_local=time.time_ns()) for a in crossing),
        RequestAccountSnapshot(coin="BTC", ts_local=time.time_ns()),
    )

    refused = [e for e in events if isinstance(e, ModifyRejected)]
    assert len([e for e in events if isinstance(e, OrderAccepted)]) == REFUSED_MODIFIES
    assert {e.reason for e in refused} == {RejectReason.POST_ONLY_WOULD_CROSS}
    assert len(refused) == REFUSED_MODIFIES
    (resting,) = [e for e in events if isinstance(e, OpenOrdersReported)]
    assert resting.orders == (), "the venue holds none of them"
    assert legs.live_cloids() == [], "the adapter holds none of them either"


class LaterClock:
    """The wall clock, moved forward on demand (the gateway's judge of expiries)."""

    def __init__(self) -> None:
        self.ahead_ns = 0

    def __call__(self) -> int:
        return time.time_ns() + self.ahead_ns


def test_placements_whose_answer_was_lost_are_forgotten_once_their_action_expired(
    venue_url: str,
) -> None:
    clock = LaterClock()
    harness = Harness(venue_url, clock=clock)
    fault(venue_url, {"reset_next": LOST_PLACEMENTS, "paths": ["exchange"]})
    lost = [resting_bid(venue_url, 0x700 + n) for n in range(LOST_PLACEMENTS)]
    harness.run(*(PlaceOrders(orders=(o,), ts_local=time.time_ns()) for o in lost))
    in_doubt = _requests_kept(harness.legs)

    clock.ahead_ns = ACTION_TTL_NS + CLOCK_SKEW_NS  # none of them can execute any more
    placed = resting_bid(venue_url, 0x7FF)
    events = harness.run(PlaceOrders(orders=(placed,), ts_local=time.time_ns()))

    assert in_doubt == LOST_PLACEMENTS, "kept while the venue may still place them"
    assert [e.cloid for e in events if isinstance(e, OrderAccepted)] == [placed.cloid]
    assert _requests_kept(harness.legs) == 1, "only the order that rests"


def _requests_kept(legs: OrderLegs) -> int:
    """The order requests the adapter keeps (to resend their fields with a modify)."""
    return census({"legs": legs})["legs._requests"]


def test_an_order_modified_again_and_again_keeps_no_stream_report_per_modify(
    venue_url: str,
) -> None:
    harness = Harness(venue_url, clock=time.time_ns)
    legs = harness.legs = StreamFirstLegs()
    order = resting_bid(venue_url, 0x800)
    # Each modify's old leg reported cancelled before its answer: kept for that answer.
    moves = [
        OrderAmendment(cloid=order.cloid, price=order.price - n, size=order.size)
        for n in range(1, MODIFIES + 1)
    ]

    events = harness.run(
        PlaceOrders(orders=(order,), ts_local=time.time_ns()),
        *(ModifyOrders(amendments=(m,), ts_local=time.time_ns()) for m in moves),
    )

    assert len([e for e in events if isinstance(e, OrderModified)]) == MODIFIES
    kept = census({"legs": legs})
    del kept["legs._cloid_by_oid"]  # every oid's order, for fills that come late (capped)
    assert max(kept.values()) <= 1, f"grows with every modify: {kept}"
