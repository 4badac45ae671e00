"""A listing that arrived before a fill still shows the filled order: no orphan.

An account snapshot's report is applied when its last query returns, after the listing:
on a tight request budget, most of a second later. An order that filled in between was
gone from the order manager's table, so the listing showed an order it "did not know":
every coin's whole ladder was cancelled as orphans and no quote went out until another
listing came back clean. Three-coin runs at 240 weight a minute reported orphans in four
of seven; each one examined was this.
"""

from __future__ import annotations

from makerd.actors.order_manager import OrderManagerLogic
from makerd.protocol.control import TimerFired
from makerd.protocol.orders import (
    CancelAll,
    CancelReason,
    OpenOrder,
    OrderCancelled,
    RequestAccountSnapshot,
)
from makerd.protocol.side import Side
from tests.kit import MS, T0, S, fill, of_type, target
from tests.test_order_manager_truth import accept, manager, placed, report


def quoting_two_bids() -> tuple[OrderManagerLogic, list[OpenOrder]]:
    """An order manager with two bids resting, and the venue's view of them."""
    om = manager()
    om.start(T0)
    om.handle(report(ts=T0 + MS))
    cloids = placed(om.handle(target([("59990", "0.002"), ("59980", "0.002")], [], ts=T0 + S)))
    accept(om, cloids, T0 + S + MS)
    listed = []
    for cloid in cloids:
        order = om.orders.get(cloid)
        assert order is not None
        assert order.venue_order_id is not None
        listed.append(
            OpenOrder(
                cloid=cloid,
                venue_order_id=order.venue_order_id,
                coin="BTC",
                side=Side.BUY,
                price=order.price,
                size=order.size,
            )
        )
    return om, listed


def test_an_order_filled_after_the_listing_came_is_no_orphan() -> None:
    om, listed = quoting_two_bids()
    listing_came = T0 + 2 * S
    om.handle(fill("t1", Side.BUY, "59990", "0.002", cloid=listed[0].cloid, ts=listing_came + MS))

    out = om.handle(report(*listed, ts=listing_came))

    assert of_type(out, CancelAll) == [], "the ladder stays: the listing predates the fill"
    assert om.truth.clean
    ladder = target([("59990", "0.002"), ("59980", "0.002")], [], ts=listing_came + S)
    assert len(placed(om.handle(ladder))) == 1, "the filled level is quoted again at once"


def test_an_order_cancelled_before_the_listing_came_but_listed_is_still_an_orphan() -> None:
    om, listed = quoting_two_bids()
    cancelled_at = T0 + 2 * S
    confirmed = OrderCancelled(
        cloid=listed[0].cloid or "",
        reason=CancelReason.REQUOTE,
        ts_exchange=cancelled_at,
        ts_local=cancelled_at,
    )
    om.handle(confirmed)

    out = om.handle(report(*listed, ts=cancelled_at + MS))

    assert of_type(out, CancelAll), "listed after the venue confirmed it gone: cancel, ask"
    assert not om.truth.clean
    assert of_type(om.handle(TimerFired(ts_local=cancelled_at + 2 * S)), RequestAccountSnapshot)
