"""An operator's pause, resume, flatten and cancel-all, as the order_manager carries them out."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from makerd.actors.operator_hold import MAX_FLATTEN_ORDERS, MAX_RATE_LIMITED_CLOSING, PauseMemory
from makerd.actors.order_manager import OrderManagerLogic
from makerd.config.model import OrderManagerConfig
from makerd.daemon.cloids import CloidFactory
from makerd.daemon.control_desk import AnswerBox, applied_answer
from makerd.protocol.account import OrderFilled
from makerd.protocol.control import (
    CancelAllOrders,
    FlattenGaveUp,
    FlattenPosition,
    OperatorAction,
    OperatorCommandApplied,
    PauseTrading,
    ResumeTrading,
    StopTrading,
)
from makerd.protocol.orders import (
    CancelOrders,
    CancelReason,
    OrderCancelled,
    OrderRejected,
    OrderRequest,
    PlaceOrders,
    RequestAccountSnapshot,
)
from makerd.protocol.rejections import RejectReason
from makerd.protocol.risk import KillReason, KillSwitchTripped
from makerd.protocol.side import Side
from tests.kit import BTC, MS, T0, S, d, fill, of_type, operator_applied, position, target
from tests.test_order_manager import accept_all, venue_reports_nothing_open

QUOTES = ([("59990", "0.002")], [("60010", "0.002")])


def quoting_manager(pause: PauseMemory | None = None) -> OrderManagerLogic:
    """An order_manager with one bid and one ask resting."""
    om = OrderManagerLogic(
        instrument=BTC,
        config=OrderManagerConfig(),
        new_cloid=CloidFactory(run_prefix=1),
        pause=pause,
    )
    venue_reports_nothing_open(om)
    accept_all(om, of_type(om.handle(target(*QUOTES)), PlaceOrders))
    return om


def venue_confirms_every_cancel(om: OrderManagerLogic) -> None:
    for order in om.orders.all():
        om.handle(
            OrderCancelled(
                cloid=order.cloid, reason=CancelReason.OPERATOR, ts_exchange=T0, ts_local=T0
            )
        )


def applied(out: list[object]) -> OperatorCommandApplied:
    [answer] = of_type(out, OperatorCommandApplied)
    return answer


def test_pause_cancels_every_order_and_later_targets_place_nothing() -> None:
    om = quoting_manager()

    out = om.handle(PauseTrading(request_id=7, ts_local=T0 + MS))
    later = om.handle(target(*QUOTES, ts=T0 + 2 * MS))

    cancels = of_type(out, CancelOrders)
    assert sum(len(c.cloids) for c in cancels) == 2
    assert all(c.reason is CancelReason.OPERATOR for c in cancels)
    assert of_type(out, RequestAccountSnapshot), "asks the venue for anything else resting"
    answer = applied(out)
    assert (answer.request_id, answer.action, answer.paused, answer.cancelled) == (
        7,
        OperatorAction.PAUSE,
        True,
        2,
    )
    assert of_type(later, PlaceOrders) == []


def test_resume_lifts_the_pause_and_the_next_target_quotes_again() -> None:
    om = quoting_manager()
    om.handle(PauseTrading(request_id=1, ts_local=T0 + MS))
    venue_confirms_every_cancel(om)

    out = om.handle(ResumeTrading(request_id=2, ts_local=T0 + 2 * MS))
    quoted = om.handle(target(*QUOTES, ts=T0 + 3 * MS))

    answer = applied(out)
    assert (answer.paused, answer.was_paused, answer.cancelled) == (False, True, 0)
    assert of_type(out, CancelOrders) == []
    assert len([o for p in of_type(quoted, PlaceOrders) for o in p.orders]) == 2


def test_a_restarted_order_manager_stays_paused() -> None:
    memory = PauseMemory()
    quoting_manager(memory).handle(PauseTrading(request_id=1, ts_local=T0 + MS))

    reborn = OrderManagerLogic(
        instrument=BTC, config=OrderManagerConfig(), new_cloid=CloidFactory(), pause=memory
    )
    venue_reports_nothing_open(reborn)

    assert of_type(reborn.handle(target(*QUOTES)), PlaceOrders) == []


def test_flatten_pauses_cancels_and_closes_the_position_with_a_reduce_only_ioc() -> None:
    om = quoting_manager()
    om.handle(position("0.004", mark="60000"))

    out = om.handle(FlattenPosition(request_id=3, ts_local=T0 + MS))

    [closing] = [o for p in of_type(out, PlaceOrders) for o in p.orders]
    assert (closing.side, closing.size, closing.reduce_only) == (Side.SELL, d("0.004"), True)
    assert closing.tif.value == "Ioc"
    answer = applied(out)
    assert answer.paused
    assert answer.flatten_order == closing
    assert of_type(om.handle(target(*QUOTES, ts=T0 + 2 * MS)), PlaceOrders) == []
    assert "paused until `makerd ctl resume`" in str(applied_answer(answer)["message"])


@pytest.mark.parametrize(
    ("booked", "mark"),
    [
        pytest.param("0.004", "0", id="no mark heard yet (a restart with a position)"),
        pytest.param("0.000004", "60000", id="less than one lot"),
    ],
)
def test_a_flatten_that_cannot_send_a_closing_order_never_says_there_is_nothing_to_close(
    booked: str, mark: str
) -> None:
    om = quoting_manager()
    om.handle(position(booked, mark=mark))

    out = om.handle(FlattenPosition(request_id=3, ts_local=T0 + MS))

    assert of_type(out, PlaceOrders) == []
    message = str(applied_answer(applied(out))["message"])
    assert "nothing to close" not in message
    assert f"position {booked} BTC left open: no closing order could be sent" in message


def test_a_flatten_of_a_flat_position_says_there_is_nothing_to_close() -> None:
    om = quoting_manager()
    om.handle(position("0"))

    out = om.handle(FlattenPosition(request_id=3, ts_local=T0 + MS))

    assert "position 0 BTC: nothing to close" in str(applied_answer(applied(out))["message"])


def test_a_flatten_that_leaves_a_remainder_closes_it_too_a_bounded_number_of_times() -> None:
    om = quoting_manager()
    om.handle(position("0.004", mark="60000"))
    out = om.handle(FlattenPosition(request_id=3, ts_local=T0))
    sent = [o for p in of_type(out, PlaceOrders) for o in p.orders]

    for step in range(1, 60):  # thirty seconds of position updates, two a second
        # Each closing IOC ends with a remainder left (cancelled), the position still open.
        om.handle(
            OrderCancelled(
                cloid=sent[-1].cloid, reason=CancelReason.OPERATOR, ts_exchange=T0, ts_local=T0
            )
        )
        again = om.handle(position("0.001", mark="60000", ts=T0 + step * S // 2))
        sent += [o for p in of_type(again, PlaceOrders) for o in p.orders]

    assert len(sent) == MAX_FLATTEN_ORDERS
    assert all(order.size == d("0.001") for order in sent[1:])


def closing_ioc_ends_unfilled(om: OrderManagerLogic, steps: int, *, start: int = 1) -> list[object]:
    """Every order ends (a closing IOC unfilled) and the position stays 0.004, two position
    updates a second for ``steps`` half-seconds; all that the order_manager sent."""
    out: list[object] = []
    for step in range(start, start + steps):
        for order in om.orders.all():
            ended = OrderCancelled(
                cloid=order.cloid, reason=CancelReason.OPERATOR, ts_exchange=T0, ts_local=T0
            )
            om.handle(ended)
        out += om.handle(position("0.004", mark="60000", ts=T0 + step * S // 2))
    return out


def test_a_flatten_that_sent_every_closing_order_it_may_says_once_that_it_gave_up() -> None:
    om = quoting_manager()
    om.handle(position("0.004", mark="60000"))
    om.handle(FlattenPosition(request_id=3, ts_local=T0))

    out = closing_ioc_ends_unfilled(om, 60)

    [gave_up] = of_type(out, FlattenGaveUp)
    assert (gave_up.coin, gave_up.position) == ("BTC", d("0.004"))
    assert len(of_type(out, PlaceOrders)) == MAX_FLATTEN_ORDERS - 1


def test_a_plain_pause_after_a_flatten_and_a_resume_never_says_a_flatten_gave_up() -> None:
    om = quoting_manager()
    om.handle(position("0.004", mark="60000"))
    om.handle(FlattenPosition(request_id=3, ts_local=T0))
    closing_ioc_ends_unfilled(om, 60)
    om.handle(ResumeTrading(request_id=4, ts_local=T0 + 31 * S))
    om.handle(PauseTrading(request_id=5, ts_local=T0 + 32 * S))

    out = closing_ioc_ends_unfilled(om, 20, start=66)

    assert of_type(out, FlattenGaveUp) == []
    assert of_type(out, PlaceOrders) == []


def test_a_stop_that_flattens_after_an_operators_flatten_gave_up_tries_again() -> None:
    om = quoting_manager()
    om.handle(position("0.004", mark="60000"))
    om.handle(FlattenPosition(request_id=3, ts_local=T0))
    closing_ioc_ends_unfilled(om, 60)

    stop = om.handle(StopTrading(reason="shutdown", flatten=True, ts_local=T0 + 31 * S))
    out = stop + closing_ioc_ends_unfilled(om, 60, start=63)

    assert len(of_type(out, PlaceOrders)) == MAX_FLATTEN_ORDERS
    assert len(of_type(out, FlattenGaveUp)) == 1


def test_the_stop_after_a_kill_switch_whose_flatten_gave_up_hears_at_once_that_it_did() -> None:
    """The stop waits for a flatten until it hears it gave up *since the stop began*: a
    kill switch's flatten that gave up before must be said again, or the stop waits out
    its whole budget for closing orders that will never be sent."""
    om = quoting_manager()
    om.handle(position("0.004", mark="60000"))
    tripped = KillSwitchTripped(
        reason=KillReason.MAX_DRAWDOWN, detail="x", flatten=True, ts_local=T0
    )
    om.handle(tripped)
    assert len(of_type(closing_ioc_ends_unfilled(om, 60), FlattenGaveUp)) == 1

    stop = om.handle(StopTrading(reason="shutdown", flatten=True, ts_local=T0 + 40 * S))

    [again] = of_type(stop, FlattenGaveUp)
    assert (again.position, again.ts_local) == (d("0.004"), T0 + 40 * S)
    assert of_type(stop, PlaceOrders) == [], "the kill switch's closing orders were all sent"


def test_closing_orders_refused_for_a_rate_limit_wait_out_its_pause_a_bounded_number_of_times() -> (
    None
):
    om = quoting_manager()
    om.handle(position("0.004", mark="60000"))
    out = om.handle(FlattenPosition(request_id=3, ts_local=T0))
    sent = [(T0, o) for p in of_type(out, PlaceOrders) for o in p.orders]

    for step in range(1, 400):  # two hundred seconds of position updates, two a second
        now = T0 + step * S // 2
        _, last = sent[-1]
        if om.orders.get(last.cloid) is not None:
            # The venue's request budget refuses it and says to wait 4 s.
            om.handle(
                OrderRejected(
                    cloid=last.cloid,
                    reason=RejectReason.RATE_LIMITED,
                    message="Too many cumulative requests sent",
                    ts_exchange=now,
                    ts_local=now,
                    retry_after_ns=4 * S,
                )
            )
        again = om.handle(position("0.004", mark="60000", ts=now))
        sent += [(now, o) for p in of_type(again, PlaceOrders) for o in p.orders]

    assert len(sent) == MAX_FLATTEN_ORDERS + MAX_RATE_LIMITED_CLOSING
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(sent)]
    assert min(gaps) >= 4 * S, "a closing order was sent while the rate limit's pause was on"


def test_fills_still_on_their_way_after_a_flatten_are_closed_once_they_settle() -> None:
    om = quoting_manager()
    om.handle(position("-0.002", mark="60000"))
    [first] = [
        o
        for p in of_type(om.handle(FlattenPosition(request_id=3, ts_local=T0)), PlaceOrders)
        for o in p.orders
    ]
    om.handle(fill("t1", Side.BUY, "60000", "0.002", cloid=first.cloid))

    # A bid being cancelled filled too: the position passes 0 and ends long.
    at_zero = om.handle(position("0", mark="60000", ts=T0 + S))
    too_soon = om.handle(position("0.002", mark="60000", ts=T0 + S + S // 2))
    settled = om.handle(position("0.002", mark="60000", ts=T0 + 2 * S))

    assert of_type(at_zero, PlaceOrders) == of_type(too_soon, PlaceOrders) == []
    [closing] = [o for p in of_type(settled, PlaceOrders) for o in p.orders]
    assert (closing.side, closing.size, closing.reduce_only) == (Side.SELL, d("0.002"), True)


def test_cancel_all_cancels_once_and_quoting_goes_on() -> None:
    om = quoting_manager()

    out = om.handle(CancelAllOrders(request_id=4, ts_local=T0 + MS))
    venue_confirms_every_cancel(om)
    quoted = om.handle(target(*QUOTES, ts=T0 + 3 * MS))

    assert applied(out).paused is False
    assert sum(len(c.cloids) for c in of_type(out, CancelOrders)) == 2
    assert len([o for p in of_type(quoted, PlaceOrders) for o in p.orders]) == 2


def test_an_answer_reaches_only_the_request_waiting_for_it() -> None:
    box = AnswerBox()
    mine = box.new_request()
    answer = operator_applied(request_id=mine)

    box.deliver(answer)
    box.deliver(dataclasses.replace(answer, request_id=mine + 1))

    assert box.wait(mine, timeout_s=1) == (answer,)
    assert box.wait(mine + 1, timeout_s=0.01) == (), "nobody asked for that one"


def test_a_kill_switch_flatten_that_fills_in_part_closes_the_rest_without_a_lasting_pause() -> None:
    memory = PauseMemory()
    om = quoting_manager(memory)
    om.handle(position("0.004", mark="60000"))
    tripped = om.handle(
        KillSwitchTripped(reason=KillReason.MAX_DRAWDOWN, detail="x", flatten=True, ts_local=T0)
    )
    sent = [o for p in of_type(tripped, PlaceOrders) for o in p.orders]

    # The book was thin: the IOC took 0.003 and the venue cancelled the rest.
    om.handle(fill_of(sent[0], "0.003"))
    om.handle(
        OrderCancelled(
            cloid=sent[0].cloid, reason=CancelReason.KILL_SWITCH, ts_exchange=T0, ts_local=T0
        )
    )
    for step in range(1, 6):
        again = om.handle(position("0.001", mark="60000", ts=T0 + step * S // 2))
        sent += [o for p in of_type(again, PlaceOrders) for o in p.orders]

    assert [(o.side, o.size, o.reduce_only) for o in sent] == [
        (Side.SELL, d("0.004"), True),
        (Side.SELL, d("0.001"), True),
    ]
    assert not memory.paused, "a restart after the kill switch is cleared quotes again"


def fill_of(order: OrderRequest, size: str) -> OrderFilled:
    return dataclasses.replace(
        fill("closing", order.side, str(order.price), size, ts=T0), cloid=order.cloid
    )
