"""The order_manager keeps orders near the target with as few venue actions as possible."""

from __future__ import annotations

from decimal import Decimal

from makerd.actors.order_manager import OrderManagerLogic, open_order_count
from makerd.config.model import OrderManagerConfig, QuotingConfig, RiskConfig
from makerd.daemon.cloids import CloidFactory
from makerd.protocol.control import ParametersChanged, StopTrading, TimerFired
from makerd.protocol.market import FeedStale
from makerd.protocol.orders import (
    CancelAll,
    CancelOrders,
    CancelReason,
    CancelRejected,
    ModifyOrders,
    OpenOrder,
    OpenOrdersReported,
    OrderAccepted,
    OrderCancelled,
    OrderStatus,
    PlaceOrders,
    RequestAccountSnapshot,
)
from makerd.protocol.rate_limits import RequestBudgetReported
from makerd.protocol.risk import KillReason, KillSwitchTripped, RiskStateChanged, TradingState
from makerd.protocol.side import Side
from tests.kit import BTC, MS, T0, S, d, fill, of_type, position, target


def manager(**overrides: object) -> OrderManagerLogic:
    config = OrderManagerConfig(**overrides)  # type: ignore[arg-type]
    om = OrderManagerLogic(instrument=BTC, config=config, new_cloid=CloidFactory(run_prefix=1))
    return venue_reports_nothing_open(om)


def venue_reports_nothing_open(om: OrderManagerLogic, ts: int = T0) -> OrderManagerLogic:
    """The start-up snapshot: the venue holds nothing, so new risk may go out."""
    om.handle(OpenOrdersReported(coin="BTC", orders=(), ts_exchange=ts, ts_local=ts))
    return om


def accept_all(om: OrderManagerLogic, placed: list[PlaceOrders], ts: int = T0) -> None:
    for command in placed:
        for order in command.orders:
            om.handle(
                OrderAccepted(
                    cloid=order.cloid,
                    venue_order_id=hash(order.cloid) & 0xFFFF,
                    coin="BTC",
                    side=order.side,
                    price=order.price,
                    size=order.size,
                    ts_exchange=ts,
                    ts_local=ts,
                )
            )


def test_a_first_target_places_one_order_per_level() -> None:
    om = manager()

    out = om.handle(target([("59990", "0.002"), ("59980", "0.002")], [("60010", "0.002")]))

    placed = of_type(out, PlaceOrders)
    assert len(placed) == 1
    orders = placed[0].orders
    assert [(o.side, o.price) for o in orders] == [
        (Side.BUY, d("59990")),
        (Side.BUY, d("59980")),
        (Side.SELL, d("60010")),
    ]
    assert all(o.tif.value == "Alo" for o in orders), "quotes are post-only"


def test_a_target_within_tolerance_keeps_the_resting_orders() -> None:
    om = manager(price_tolerance_bps=Decimal(2))
    accept_all(
        om, of_type(om.handle(target([("59990", "0.002")], [("60010", "0.002")])), PlaceOrders)
    )

    # 59995 is 0.83 bps from 59990: inside the 2 bps tolerance, so nothing is sent.
    out = om.handle(target([("59995", "0.002")], [("60012", "0.002")], ts=T0 + 100 * MS))

    assert of_type(out, PlaceOrders) == []
    assert of_type(out, CancelOrders) == []
    assert of_type(out, ModifyOrders) == []


def test_a_target_beyond_tolerance_modifies_instead_of_cancel_and_replace() -> None:
    om = manager(price_tolerance_bps=Decimal(2))
    accept_all(om, of_type(om.handle(target([("59990", "0.002")], [])), PlaceOrders))

    # 59960 is 5 bps away from 59990: outside tolerance.
    out = om.handle(target([("59960", "0.002")], [], ts=T0 + 100 * MS))

    modifies = of_type(out, ModifyOrders)
    assert len(modifies) == 1
    assert modifies[0].amendments[0].price == d("59960")
    assert of_type(out, CancelOrders) == []
    assert of_type(out, PlaceOrders) == []


def test_an_order_past_the_maximum_age_is_refreshed_only_when_beyond_the_plain_tolerance() -> None:
    def aged_order_against(price: str) -> list[object]:
        om = manager(
            price_tolerance_bps=Decimal(2),
            max_order_age_s=10.0,
            queue_hold_s=5.0,
            queue_hold_factor=Decimal(2),
        )
        accept_all(om, of_type(om.handle(target([("59990", "0.002")], [])), PlaceOrders))
        return om.handle(target([(price, "0.002")], [], ts=T0 + 11 * S))

    # 59982 is 1.3 bps below the bid: within the 2 bps tolerance, so age alone moves nothing.
    close = aged_order_against("59982")
    # 59975 is 2.5 bps below: a seasoned order would keep it (2 x 2 bps), an old one does not.
    far = aged_order_against("59975")

    assert of_type(close, ModifyOrders) == []
    assert [a.price for m in of_type(far, ModifyOrders) for a in m.amendments] == [d("59975")]


def test_an_order_behind_its_level_keeps_its_queue_place_until_the_gap_is_worth_it() -> None:
    def fresh_bid_at_59990_against(price: str) -> list[object]:
        om = manager(price_tolerance_bps=Decimal(2), behind_tolerance_factor=Decimal(2))
        accept_all(om, of_type(om.handle(target([("59990", "0.002")], [])), PlaceOrders))
        return om.handle(target([(price, "0.002")], [], ts=T0 + 1 * S))

    # The target rose 3 bps: the bid is behind it (safer than wanted), within 2 x 2 bps.
    behind_a_little = fresh_bid_at_59990_against("60008")
    # The target rose 5 bps: beyond 4 bps, the better price is worth the queue place.
    behind_a_lot = fresh_bid_at_59990_against("60020")
    # The target fell 3 bps: the bid is ahead of it (more risk than wanted) and follows.
    ahead = fresh_bid_at_59990_against("59972")

    assert of_type(behind_a_little, ModifyOrders) == []
    assert len(of_type(behind_a_lot, ModifyOrders)) == 1
    assert len(of_type(ahead, ModifyOrders)) == 1


def test_an_ask_above_its_level_is_behind_it_and_an_ask_below_is_ahead() -> None:
    def fresh_ask_at_60010_against(price: str) -> list[object]:
        om = manager(price_tolerance_bps=Decimal(2), behind_tolerance_factor=Decimal(2))
        accept_all(om, of_type(om.handle(target([], [("60010", "0.002")])), PlaceOrders))
        return om.handle(target([], [(price, "0.002")], ts=T0 + 1 * S))

    assert of_type(fresh_ask_at_60010_against("59992"), ModifyOrders) == []  # 3 bps behind
    assert len(of_type(fresh_ask_at_60010_against("60028"), ModifyOrders)) == 1  # 3 bps ahead


def test_an_order_waiting_for_its_answer_is_amended_after_it_not_cancelled_and_replaced() -> None:
    om = manager(price_tolerance_bps=Decimal(2))
    placed = of_type(om.handle(target([("59990", "0.002")], [])), PlaceOrders)

    # 59960 is 5 bps away, but the order has not been answered yet.
    waiting = om.handle(target([("59960", "0.002")], [], ts=T0 + 10 * MS))
    accept_all(om, placed)
    answered = om.handle(target([("59960", "0.002")], [], ts=T0 + 20 * MS))

    assert of_type(waiting, CancelOrders) == []
    assert of_type(waiting, PlaceOrders) == []
    assert of_type(waiting, ModifyOrders) == []
    assert [a.price for m in of_type(answered, ModifyOrders) for a in m.amendments] == [d("59960")]


def test_pending_orders_are_not_duplicated_while_waiting_for_the_ack() -> None:
    om = manager()
    om.handle(target([("59990", "0.002")], []))

    out = om.handle(target([("59990", "0.002")], [], ts=T0 + 10 * MS))

    assert of_type(out, PlaceOrders) == [], "an unacknowledged order still counts as live"


def test_an_empty_target_cancels_everything() -> None:
    om = manager()
    accept_all(
        om, of_type(om.handle(target([("59990", "0.002")], [("60010", "0.002")])), PlaceOrders)
    )

    out = om.handle(target([], [], ts=T0 + MS))

    cancels = of_type(out, CancelOrders)
    assert sum(len(c.cloids) for c in cancels) == 2


def test_a_fill_for_the_whole_size_retires_the_order() -> None:
    om = manager()
    placed = of_type(om.handle(target([("59990", "0.002")], [])), PlaceOrders)
    accept_all(om, placed)
    cloid = placed[0].orders[0].cloid

    om.handle(fill("t1", Side.BUY, "59990", "0.001", cloid=cloid))
    assert om.orders.get(cloid) is not None
    assert om.orders.get(cloid).remaining == d("0.001")  # type: ignore[union-attr]
    om.handle(fill("t2", Side.BUY, "59990", "0.001", cloid=cloid))

    assert om.orders.get(cloid) is None
    assert open_order_count(om.orders) == 0


def test_a_failed_cancel_makes_the_order_unknown_and_asks_the_venue() -> None:
    om = manager()
    placed = of_type(om.handle(target([("59990", "0.002")], [])), PlaceOrders)
    accept_all(om, placed)
    cloid = placed[0].orders[0].cloid
    om.handle(target([], [], ts=T0 + MS))

    out = om.handle(
        CancelRejected(
            cloid=cloid,
            message="Order was never placed, already canceled, or filled.",
            ts_exchange=T0,
            ts_local=T0 + 2 * MS,
        )
    )

    assert om.orders.get(cloid).status is OrderStatus.UNKNOWN  # type: ignore[union-attr]
    assert of_type(out, RequestAccountSnapshot), "an order in doubt is settled by the venue"


ORPHAN = OpenOrder(
    cloid="0xdead", venue_order_id=7, coin="BTC", side=Side.BUY, price=d("59000"), size=d("0.002")
)
"""An order the venue lists that this manager never placed."""


def test_the_venue_snapshot_settles_unknown_orders_and_cancels_orphans() -> None:
    om = manager()
    start = om.start(T0)
    assert of_type(start, RequestAccountSnapshot), "a (re)started manager asks for the truth"

    out = om.handle(OpenOrdersReported(coin="BTC", orders=(ORPHAN,), ts_exchange=T0, ts_local=T0))

    assert of_type(out, CancelAll), "orders makerd does not know are cancelled"


def test_stop_trading_cancels_every_order_it_knows_and_refuses_new_quotes() -> None:
    om = manager()
    placed = of_type(om.handle(target([("59990", "0.002")], [("60010", "0.002")])), PlaceOrders)
    accept_all(om, placed)

    out = om.handle(StopTrading(reason="shutdown", flatten=False, ts_local=T0 + MS))
    later = om.handle(target([("59990", "0.002")], [], ts=T0 + 2 * MS))

    cancelled = {cloid for cancel in of_type(out, CancelOrders) for cloid in cancel.cloids}
    assert cancelled == {order.cloid for command in placed for order in command.orders}
    assert of_type(out, CancelAll) == [], "the stop's sweep lists the venue, once for all coins"
    assert of_type(later, PlaceOrders) == []


def test_a_stopped_manager_leaves_orphans_to_the_stop_sweep() -> None:
    om = manager()
    om.start(T0)
    om.handle(StopTrading(reason="shutdown", flatten=False, ts_local=T0 + MS))

    out = om.handle(
        OpenOrdersReported(coin="BTC", orders=(ORPHAN,), ts_exchange=T0, ts_local=T0 + 2 * MS)
    )

    assert of_type(out, CancelAll) == [], "a listing per coin would spend the sweep's budget"


def test_a_stale_feed_pulls_every_quote() -> None:
    om = manager()
    accept_all(
        om, of_type(om.handle(target([("59990", "0.002")], [("60010", "0.002")])), PlaceOrders)
    )

    out = om.handle(FeedStale(coin="BTC", silent_for_ns=6 * S, ts_exchange=T0, ts_local=T0 + 6 * S))

    assert sum(len(c.cloids) for c in of_type(out, CancelOrders)) == 2


def test_reduce_only_state_marks_new_orders_reduce_only() -> None:
    om = manager()
    om.handle(RiskStateChanged(state=TradingState.REDUCE_ONLY, reason="near limit", ts_local=T0))

    out = om.handle(target([], [("60010", "0.002")]))

    assert all(o.reduce_only for o in of_type(out, PlaceOrders)[0].orders)


def test_cancel_confirmation_removes_the_order() -> None:
    om = manager()
    placed = of_type(om.handle(target([("59990", "0.002")], [])), PlaceOrders)
    accept_all(om, placed)
    cloid = placed[0].orders[0].cloid
    om.handle(target([], [], ts=T0 + MS))

    assert open_order_count(om.orders) == 1, "pending cancel still counts until confirmed"

    om.handle(
        OrderCancelled(
            cloid=cloid, reason=CancelReason.REQUOTE, ts_exchange=T0, ts_local=T0 + 2 * MS
        )
    )

    assert open_order_count(om.orders) == 0


def test_an_order_that_held_its_price_keeps_its_queue_through_a_small_wiggle() -> None:
    om = manager(price_tolerance_bps=Decimal(2), queue_hold_s=5.0, queue_hold_factor=Decimal(2))
    accept_all(om, of_type(om.handle(target([("59990", "0.002")], [])), PlaceOrders))

    # 59972 is 3 bps from 59990: beyond the 2 bps tolerance, within 2 x 2 bps.
    young = om.handle(target([("59972", "0.002")], [], ts=T0 + 1 * S))
    om2 = manager(price_tolerance_bps=Decimal(2), queue_hold_s=5.0, queue_hold_factor=Decimal(2))
    accept_all(om2, of_type(om2.handle(target([("59990", "0.002")], [])), PlaceOrders))
    seasoned = om2.handle(target([("59972", "0.002")], [], ts=T0 + 6 * S))

    assert len(of_type(young, ModifyOrders)) == 1, "a fresh order follows the target"
    assert of_type(seasoned, ModifyOrders) == [], "a seasoned order keeps its place"


def test_a_low_exchange_request_budget_widens_the_refresh_tolerance_until_it_recovers() -> None:
    om = manager(
        price_tolerance_bps=Decimal(2),
        queue_hold_s=60.0,
        budget_low_water_requests=2000,
        budget_tolerance_factor=Decimal(3),
    )
    accept_all(om, of_type(om.handle(target([("59990", "0.002")], [])), PlaceOrders))
    om.handle(RequestBudgetReported(requests_left=500, requests_cap=10_500, ts_local=T0))

    # 59972 is 3 bps away: a modify normally, kept while the budget is low (2 x 3 = 6 bps).
    low = om.handle(target([("59972", "0.002")], [], ts=T0 + MS))
    om.handle(RequestBudgetReported(requests_left=9_000, requests_cap=10_500, ts_local=T0))
    recovered = om.handle(target([("59972", "0.002")], [], ts=T0 + 2 * MS))

    assert of_type(low, ModifyOrders) == []
    assert len(of_type(recovered, ModifyOrders)) == 1


def test_a_kill_switch_and_the_shutdown_after_it_flatten_only_once() -> None:
    om = manager()
    om.handle(position("0.004", mark="60000"))

    tripped = om.handle(
        KillSwitchTripped(reason=KillReason.SESSION_LOSS, detail="x", flatten=True, ts_local=T0)
    )
    shutdown = om.handle(StopTrading(reason="shutdown", flatten=True, ts_local=T0 + MS))

    [flatten] = [o for p in of_type(tripped, PlaceOrders) for o in p.orders]
    assert flatten.side is Side.SELL
    assert flatten.size == d("0.004")
    assert flatten.reduce_only
    assert flatten.tif.value == "Ioc"
    assert flatten.price < d("60000"), "priced to cross"
    assert of_type(shutdown, PlaceOrders) == []


def test_reloaded_parameters_change_the_refresh_tolerance_of_resting_orders() -> None:
    om = manager(price_tolerance_bps=Decimal(2), queue_hold_s=60.0)
    accept_all(om, of_type(om.handle(target([("59990", "0.002")], [])), PlaceOrders))

    om.handle(
        ParametersChanged(
            quoting=QuotingConfig(),
            order_manager=OrderManagerConfig(price_tolerance_bps=Decimal(10), queue_hold_s=60.0),
            risk=RiskConfig(),
            ts_local=T0,
        )
    )
    out = om.handle(target([("59972", "0.002")], [], ts=T0 + MS))  # 3 bps: inside 10 bps now

    assert of_type(out, ModifyOrders) == []


def test_a_stopped_manager_asks_the_venue_nothing_more() -> None:
    om = manager()
    om.start(T0)
    om.handle(StopTrading(reason="shutdown", flatten=False, ts_local=T0 + MS))

    later = [
        *om.handle(CancelRejected(cloid="0xdead", message="gone", ts_exchange=T0, ts_local=T0)),
        *om.handle(TimerFired(ts_local=T0 + 600 * S)),
    ]

    assert of_type(later, RequestAccountSnapshot) == [], "the stop's sweep asks for every coin"
