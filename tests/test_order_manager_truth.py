"""The order manager adds risk only on the venue's truth, within its bound, never replaying.

Each test drives the plain state machine with the venue's answers (or their absence) and
counts what could be resting at the venue after every step.
"""

from __future__ import annotations

import itertools
import logging

import pytest

from makerd.actors.exposure import TRANSIENT_MARGIN
from makerd.actors.order_manager import PENDING_TIMEOUT_NS, OrderManagerLogic
from makerd.config.model import OrderManagerConfig
from makerd.daemon.cloids import CloidFactory
from makerd.protocol.control import StopTrading, TimerFired
from makerd.protocol.orders import (
    CancelAll,
    CancelOrders,
    CancelRejected,
    DeadManSwitchArmed,
    DeadManSwitchLost,
    ModifyOrders,
    OpenOrder,
    OpenOrdersReported,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    PlaceOrders,
    RequestAccountSnapshot,
)
from makerd.protocol.rate_limits import RateLimitLifted
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from tests.kit import BTC, MS, T0, S, d, of_type, target

LADDER = target(
    [("59990", "0.002"), ("59980", "0.002"), ("59970", "0.002")],
    [("60010", "0.002"), ("60020", "0.002"), ("60030", "0.002")],
)


def manager() -> OrderManagerLogic:
    return OrderManagerLogic(
        instrument=BTC,
        config=OrderManagerConfig(),
        new_cloid=CloidFactory(run_prefix=1),
        max_quote_orders=6,
    )


def report(*orders: OpenOrder, ts: int = T0) -> OpenOrdersReported:
    return OpenOrdersReported(coin="BTC", orders=orders, ts_exchange=ts, ts_local=ts)


def orphan(oid: int, cloid: str | None = "0xfeedfeedfeedfeedfeedfeedfeedfeed") -> OpenOrder:
    return OpenOrder(
        cloid=cloid,
        venue_order_id=oid,
        coin="BTC",
        side=Side.BUY,
        price=d("59000"),
        size=d("0.002"),
    )


def placed(out: list[object]) -> list[str]:
    return [order.cloid for command in of_type(out, PlaceOrders) for order in command.orders]


def accept(om: OrderManagerLogic, cloids: list[str], ts: int) -> None:
    for n, cloid in enumerate(cloids):
        order = om.orders.get(cloid)
        assert order is not None
        om.handle(
            OrderAccepted(
                cloid=cloid,
                venue_order_id=1000 + n,
                coin="BTC",
                side=order.side,
                price=order.price,
                size=order.size,
                ts_exchange=ts,
                ts_local=ts,
            )
        )


def may_rest(om: OrderManagerLogic) -> int:
    """Orders the venue may hold: anything not known to be finished."""
    return sum(1 for order in om.orders.all() if not order.status.is_terminal)


def test_nothing_is_placed_before_the_venue_has_said_what_rests() -> None:
    om = manager()
    start = om.start(T0)

    out = om.handle(LADDER)

    assert of_type(start, RequestAccountSnapshot)
    assert placed(out) == []


def test_orphans_from_a_previous_run_are_cancelled_and_confirmed_gone_before_new_quotes() -> None:
    om = manager()
    om.start(T0)

    out = om.handle(report(orphan(7), orphan(8), ts=T0 + MS))
    assert of_type(out, CancelAll)
    assert placed(om.handle(target([("59990", "0.002")], [], ts=T0 + 2 * MS))) == []

    # The cancel failed (a 429): the orphans are still listed at the next snapshot.
    asks = of_type(om.handle(TimerFired(ts_local=T0 + 2 * S)), RequestAccountSnapshot)
    assert asks, "a dirty view asks the venue again"
    again = om.handle(report(orphan(7), orphan(8), ts=T0 + 2 * S))
    assert of_type(again, CancelAll), "a failed orphan cancel is retried, not forgotten"

    om.handle(report(ts=T0 + 4 * S))
    assert len(placed(om.handle(target([("59990", "0.002")], [], ts=T0 + 4 * S)))) == 1


def asked_at(asked_ns: int, heard_ns: int, *orders: OpenOrder) -> OpenOrdersReported:
    """A live listing: dated by when it was asked, heard later."""
    return OpenOrdersReported(coin="BTC", orders=orders, ts_exchange=asked_ns, ts_local=heard_ns)


def test_listings_asked_while_the_orphan_cancel_is_on_its_way_do_not_send_another() -> None:
    """After a restart the order manager's own check, the user stream's reconnect repair
    and the fill tracker's start repair each list the orphans within milliseconds (one
    asked after the first was heard, before its cancel had left the venue's thread); each
    sent a cancel-all, 3-9 a restart where one per coin does, and the spent budget held
    the first quotes 8 s with three coins."""
    om = manager()
    om.start(T0)
    first = om.handle(asked_at(T0, T0 + 10 * MS, orphan(7), orphan(8)))
    repair = om.handle(asked_at(T0 + 5 * MS, T0 + 20 * MS, orphan(7), orphan(8)))
    reconnect = om.handle(asked_at(T0 + 15 * MS, T0 + 30 * MS, orphan(7), orphan(8)))

    assert [len(of_type(out, CancelAll)) for out in (first, repair, reconnect)] == [1, 0, 0]
    assert placed(om.handle(target([("59990", "0.002")], [], ts=T0 + 40 * MS))) == []

    # A listing asked after the cancel went out that still shows them: cancelled again.
    later = om.handle(asked_at(T0 + 2 * S, T0 + 2 * S + 10 * MS, orphan(7), orphan(8)))
    assert len(of_type(later, CancelAll)) == 1


def test_snapshot_requests_back_off_while_the_venue_does_not_answer() -> None:
    om = manager()
    om.start(T0)
    asked_at = [
        ts
        for ts in range(T0, T0 + 30 * S, 100 * MS)
        if of_type(om.handle(TimerFired(ts_local=ts)), RequestAccountSnapshot)
    ]

    gaps = [later - earlier for earlier, later in itertools.pairwise(asked_at)]
    assert len(asked_at) >= 4
    assert gaps == sorted(gaps), "each retry waits at least as long as the last"
    assert max(gaps) <= 8 * S + 100 * MS


def test_slow_answers_never_let_a_second_ladder_join_the_first() -> None:
    om = manager()
    om.handle(report())
    first = placed(om.handle(LADDER))
    assert len(first) == 6

    # No answer comes: the orders go in doubt, and the venue may still be holding them.
    late = T0 + PENDING_TIMEOUT_NS + S
    om.handle(TimerFired(ts_local=late))
    moved = target([("59900", "0.002")] * 3, [("60100", "0.002")] * 3, ts=late + MS)
    out = om.handle(moved)

    assert placed(out) == []
    assert may_rest(om) <= 6 + TRANSIENT_MARGIN


def test_orders_in_doubt_outlive_a_report_asked_while_their_action_could_still_land() -> None:
    om = manager()
    om.handle(report())
    first = placed(om.handle(LADDER))
    late = T0 + PENDING_TIMEOUT_NS + S
    om.handle(TimerFired(ts_local=late))  # no answer: the six orders are in doubt

    # The venue lists nothing, but its answer to the placement could still be on the way.
    unsure = OpenOrdersReported(
        coin="BTC", orders=(), ts_exchange=late, ts_local=late, unsettled_orders=6
    )
    om.handle(unsure)
    kept = placed(om.handle(target([("59900", "0.002")] * 3, [("60100", "0.002")] * 3)))
    om.handle(report(ts=late + 2 * S))  # asked once nothing can land any more
    settled = {order.cloid for order in om.orders.all()}

    assert kept == []
    assert settled.isdisjoint(first), "a report that can vouch for them settles them"


def test_the_bound_holds_through_cancel_and_replace_of_the_whole_ladder() -> None:
    om = manager()
    om.handle(report())
    accept(om, placed(om.handle(LADDER)), T0)
    highest = 0
    for step in range(1, 40):
        ts = T0 + step * 300 * MS
        shift = step * 50  # far beyond tolerance: every order must go
        moved = target(
            [(str(59990 - shift - 10 * i), "0.002") for i in range(3)],
            [(str(60010 - shift + 10 * i), "0.002") for i in range(3)],
            ts=ts,
        )
        out = om.handle(moved)
        highest = max(highest, may_rest(om))
        for cancel in of_type(out, CancelOrders):  # the venue confirms cancels only sometimes
            if step % 3:
                for cloid in cancel.cloids:
                    om.handle(
                        OrderCancelled(
                            cloid=cloid, reason=cancel.reason, ts_exchange=ts, ts_local=ts
                        )
                    )
        accept(om, placed(out), ts)
        for command in of_type(out, ModifyOrders):
            for change in command.amendments:
                om.orders.revert_modify(change.cloid, ts)

    assert highest <= 6 + TRANSIENT_MARGIN


def rate_limited(cloid: str, *, at: int, retry_after_ns: int = 0) -> OrderRejected:
    return OrderRejected(
        cloid=cloid,
        reason=RejectReason.RATE_LIMITED,
        message="Too many cumulative requests",
        ts_exchange=at,
        ts_local=at,
        retry_after_ns=retry_after_ns,
    )


def test_a_rate_limit_refusal_pauses_new_risk_and_nothing_is_replayed_when_it_ends() -> None:
    om = manager()
    om.handle(report())
    first = placed(om.handle(LADDER))
    for cloid in first:
        om.handle(rate_limited(cloid, at=T0 + MS))

    during = [
        placed(om.handle(target([("59990", "0.002")], [], ts=T0 + n * 100 * MS)))
        for n in range(2, 9)
    ]
    after = placed(om.handle(target([("59950", "0.002")], [("60050", "0.002")], ts=T0 + 3 * S)))

    assert all(batch == [] for batch in during)
    assert len(after) == 2, "after the pause: exactly the current target, not the backlog"
    assert may_rest(om) == 2


def test_after_refusals_that_state_the_budgets_wait_new_risk_resumes_when_the_budget_said() -> None:
    """A rate-limit episode as a fault test saw it: the venue's budget says how long it
    refuses new risk each time. The manager waits exactly that; its own doubling stacked on
    top kept quoting away for about 20 s after the limit had lifted."""
    om = manager()
    om.handle(report())
    pending = placed(om.handle(LADDER))
    refusals = [(0, 1 * S), (1_100 * MS, 2 * S), (3_200 * MS, 4 * S), (7_300 * MS, S // 2)]
    for step, (at, wait) in enumerate(refusals):
        for cloid in pending:
            om.handle(rate_limited(cloid, at=T0 + at, retry_after_ns=wait))
        price = str(59_990 - 10 * step)
        held = placed(om.handle(target([(price, "0.002")], [], ts=T0 + at + wait - MS)))
        pending = placed(om.handle(target([(price, "0.001")], [], ts=T0 + at + wait + MS)))
        assert held == [], f"nothing before the budget's {wait / S:.1f}s had passed"
        assert len(pending) == 1, f"quoting again once the budget's {wait / S:.1f}s had passed"


def test_new_risk_resumes_when_the_limit_is_lifted_before_the_budgets_stated_wait() -> None:
    om = manager()
    om.handle(report())
    for cloid in placed(om.handle(LADDER)):
        om.handle(rate_limited(cloid, at=T0, retry_after_ns=7 * S))

    held = placed(om.handle(target([("59990", "0.002")], [], ts=T0 + S)))
    om.handle(RateLimitLifted(ts_local=T0 + 2 * S))
    back = placed(om.handle(target([("59990", "0.002")], [], ts=T0 + 2 * S + MS)))

    assert held == []
    assert len(back) == 1, "the exchange took an action since: 5 s of the wait were left"


def test_a_lost_dead_man_switch_pulls_quotes_until_it_is_armed_again() -> None:
    om = manager()
    om.handle(report())
    accept(om, placed(om.handle(LADDER)), T0)

    pulled = om.handle(DeadManSwitchLost(failures=3, message="refused", ts_local=T0 + S))
    while_lost = placed(om.handle(target([("59990", "0.002")], [], ts=T0 + 2 * S)))
    om.handle(DeadManSwitchArmed(cancel_at_ns=T0 + 70 * S, ts_local=T0 + 3 * S))
    back = placed(om.handle(target([("59990", "0.002")], [], ts=T0 + 4 * S)))

    assert sum(len(c.cloids) for c in of_type(pulled, CancelOrders)) == 6
    assert while_lost == []
    assert len(back) == 1


def test_a_dead_man_switch_armed_again_during_a_stop_does_not_say_quotes_resumed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A stop on a spent request budget lost the switch and armed it again: the log said
    # "quotes_resumed" while makerd was stopping, and an operator read it as trading.
    om = manager()
    om.handle(report())
    om.handle(DeadManSwitchLost(failures=3, message="refused", ts_local=T0 + S))
    om.handle(StopTrading(reason="signal", flatten=False, ts_local=T0 + 2 * S))

    with caplog.at_level(logging.INFO, logger="makerd.order_manager"):
        om.handle(DeadManSwitchArmed(cancel_at_ns=T0 + 70 * S, ts_local=T0 + 3 * S))

    assert "quotes_resumed" not in caplog.text
    assert "dead_man_switch_rearmed" in caplog.text


def test_a_failed_cancel_puts_the_order_in_doubt_and_blocks_new_orders_until_settled() -> None:
    om = manager()
    om.handle(report())
    first = placed(om.handle(target([("59990", "0.002")], [], ts=T0)))
    accept(om, first, T0)
    out = om.handle(target([], [], ts=T0 + S))
    cancelled = [c for command in of_type(out, CancelOrders) for c in command.cloids]
    assert cancelled == first

    after = om.handle(
        CancelRejected(cloid=first[0], message="429", ts_exchange=T0 + S, ts_local=T0 + S)
    )
    blocked = placed(om.handle(target([("58000", "0.002")], [], ts=T0 + 2 * S)))
    om.handle(report(ts=T0 + 3 * S))
    settled = placed(om.handle(target([("58000", "0.002")], [], ts=T0 + 3 * S)))

    assert of_type(after, RequestAccountSnapshot)
    assert blocked == []
    assert len(settled) == 1


def test_an_unanswered_question_is_asked_again_as_such_and_a_new_doubt_asks_afresh() -> None:
    # The venue may join a question asked again to the answer already on its way; only a
    # question with something learnt since (a cancel refused) needs queries of its own.
    om = manager()
    first = of_type(om.start(T0), RequestAccountSnapshot)
    retries = [
        ask
        for ts in range(T0, T0 + 4 * S, 100 * MS)
        for ask in of_type(om.handle(TimerFired(ts_local=ts)), RequestAccountSnapshot)
    ]
    om.handle(report(ts=T0 + 4 * S))
    placed_first = placed(om.handle(target([("59990", "0.002")], [], ts=T0 + 4 * S)))
    accept(om, placed_first, T0 + 4 * S)
    om.handle(target([], [], ts=T0 + 5 * S))
    refused = CancelRejected(
        cloid=placed_first[0], message="429", ts_exchange=T0 + 5 * S, ts_local=T0 + 5 * S
    )
    after_doubt = of_type(om.handle(refused), RequestAccountSnapshot)

    assert [ask.again for ask in first] == [False]
    assert retries
    assert all(ask.again for ask in retries)
    assert [ask.again for ask in after_doubt] == [False]
