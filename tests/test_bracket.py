"""Bracket mode: a reduce-only take-profit / stop-loss pair follows the open position."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

from makerd.actors.bracket import bracket_settings
from makerd.actors.driver import DeterministicDriver
from makerd.actors.gate import TradingGate
from makerd.actors.order_manager import OrderManagerLogic
from makerd.actors.routing import ORDER_MANAGER
from makerd.config.loader import ConfigError, parse_config
from makerd.config.model import MakerdConfig, OrderManagerConfig, QuotingConfig
from makerd.daemon.backtest import SIM_EPOCH_NS
from makerd.daemon.cloids import CloidFactory
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.wiring import Dependencies, logic_factories
from makerd.protocol.account import FillBooked, PositionChanged
from makerd.protocol.clock import ManualClock
from makerd.protocol.control import StopTrading
from makerd.protocol.orders import (
    CancelAll,
    CancelOrders,
    CancelReason,
    OpenOrdersReported,
    OrderAccepted,
    OrderCancelled,
    OrderRequest,
    PlaceOrders,
    Trigger,
    TriggerKind,
)
from makerd.protocol.risk import RiskStateChanged, TradingState
from makerd.protocol.side import Side
from makerd.quoting.bracket import BracketSettings
from makerd.venues.sim.venue import SimVenue, sim_instrument
from tests.kit import BTC, MS, T0, S, d, target

T = TypeVar("T")
SETTINGS = BracketSettings(take_profit_bps=d(10), stop_loss_bps=d(20))


def of_type(messages: list[object], kind: type[T]) -> list[T]:
    return [message for message in messages if isinstance(message, kind)]


def manager(settings: BracketSettings | None = SETTINGS) -> OrderManagerLogic:
    om = OrderManagerLogic(
        instrument=BTC,
        config=OrderManagerConfig(),
        new_cloid=CloidFactory(run_prefix=1),
        bracket=settings,
    )
    om.handle(OpenOrdersReported(coin="BTC", orders=(), ts_exchange=T0, ts_local=T0))
    return om


def position(size: str, entry: str = "60000", *, ts: int = T0) -> PositionChanged:
    return PositionChanged(
        coin="BTC",
        position=d(size),
        average_entry=d(entry),
        realized_pnl=d(0),
        unrealized_pnl=d(0),
        fees_paid=d(0),
        mark=d(entry),
        ts_local=ts,
    )


def placed_orders(out: list[object]) -> list[OrderRequest]:
    return [order for command in of_type(out, PlaceOrders) for order in command.orders]


def trigger_of(order: OrderRequest) -> Trigger:
    assert order.trigger is not None, f"{order.cloid} is a plain order, not a trigger"
    return order.trigger


def cancelled_cloids(out: list[object]) -> list[str]:
    return [cloid for command in of_type(out, CancelOrders) for cloid in command.cloids]


def accept(om: OrderManagerLogic, orders: list[OrderRequest]) -> None:
    for number, order in enumerate(orders, start=1):
        om.handle(
            OrderAccepted(
                cloid=order.cloid,
                venue_order_id=number,
                coin="BTC",
                side=order.side,
                price=order.price,
                size=order.size,
                ts_exchange=T0,
                ts_local=T0,
            )
        )


def test_a_long_position_gets_a_reduce_only_sell_take_profit_above_and_stop_loss_below() -> None:
    om = manager()

    out = om.handle(position("0.004", "60000"))

    take_profit, stop_loss = placed_orders(out)
    for order in (take_profit, stop_loss):
        assert (order.side, order.size, order.reduce_only) == (Side.SELL, d("0.004"), True)
    assert trigger_of(take_profit).kind is TriggerKind.TAKE_PROFIT
    assert trigger_of(take_profit).price == d(60060)  # 10 bps above the entry
    assert trigger_of(stop_loss).kind is TriggerKind.STOP_LOSS
    assert trigger_of(stop_loss).price == d(59880)  # 20 bps below it
    assert stop_loss.price < trigger_of(stop_loss).price, "the limit leaves room to fill"
    assert take_profit.cloid != stop_loss.cloid


def test_a_short_position_gets_buy_orders_with_the_take_profit_below_the_entry() -> None:
    om = manager()

    take_profit, stop_loss = placed_orders(om.handle(position("-0.003", "60000")))

    assert {take_profit.side, stop_loss.side} == {Side.BUY}
    assert trigger_of(take_profit).price == d(59940)
    assert trigger_of(stop_loss).price == d(60120)


def test_the_pair_is_replaced_with_fresh_cloids_when_the_position_grows() -> None:
    om = manager()
    first = placed_orders(om.handle(position("0.002", "60000")))
    accept(om, first)

    out = om.handle(position("0.004", "60010"))

    assert sorted(cancelled_cloids(out)) == sorted(order.cloid for order in first)
    second = placed_orders(out)
    assert [order.size for order in second] == [d("0.004"), d("0.004")]
    assert not {order.cloid for order in second} & {order.cloid for order in first}


def test_an_unchanged_position_republished_with_a_new_mark_sends_nothing() -> None:
    om = manager()
    accept(om, placed_orders(om.handle(position("0.002"))))

    out = om.handle(position("0.002", ts=T0 + S))

    assert of_type(out, PlaceOrders) == []
    assert of_type(out, CancelOrders) == []


def test_both_orders_are_cancelled_when_the_position_is_flat() -> None:
    om = manager()
    pair = placed_orders(om.handle(position("0.002")))
    accept(om, pair)

    out = om.handle(position("0", "0"))

    assert sorted(cancelled_cloids(out)) == sorted(order.cloid for order in pair)
    assert placed_orders(out) == []


def test_a_pair_the_venue_dropped_is_placed_again_on_the_next_position_update() -> None:
    om = manager()
    pair = placed_orders(om.handle(position("0.002")))
    accept(om, pair)
    om.handle(
        OrderCancelled(cloid=pair[1].cloid, reason=CancelReason.RISK, ts_exchange=T0, ts_local=T0)
    )

    out = om.handle(position("0.002", ts=T0 + S))

    assert cancelled_cloids(out) == [pair[0].cloid]
    assert len(placed_orders(out)) == 2


def test_the_quote_diff_never_cancels_or_amends_bracket_orders() -> None:
    om = manager()
    pair = placed_orders(om.handle(position("0.002")))
    accept(om, pair)

    out = om.handle(target([("59990", "0.002")], [], ts=T0 + 10 * MS))

    assert cancelled_cloids(out) == []
    assert [order.side for order in placed_orders(out)] == [Side.BUY]
    assert all(order.trigger is None for order in placed_orders(out))


def test_stop_trading_cancels_everything_and_no_bracket_is_placed_afterwards() -> None:
    om = manager()
    accept(om, placed_orders(om.handle(position("0.002"))))

    stopped = om.handle(StopTrading(reason="test", flatten=False, ts_local=T0 + S))
    later = om.handle(position("0.004", ts=T0 + 2 * S))

    assert cancelled_cloids(stopped) != []
    assert of_type(stopped, CancelAll) == []
    assert placed_orders(later) == []


def test_a_halt_keeps_brackets_from_being_placed() -> None:
    om = manager()
    om.handle(RiskStateChanged(state=TradingState.HALTED, reason="test", ts_local=T0))

    assert placed_orders(om.handle(position("0.002"))) == []


def test_without_bracket_settings_a_position_change_sends_nothing() -> None:
    om = manager(settings=None)

    assert om.handle(position("0.002")) == []


def test_bracket_mode_is_off_when_both_distances_are_zero_and_on_otherwise() -> None:
    on = QuotingConfig(bracket_take_profit_bps=d(8), bracket_stop_loss_bps=d(12))

    assert bracket_settings(QuotingConfig()) is None
    assert bracket_settings(on) == BracketSettings(
        take_profit_bps=d(8), stop_loss_bps=d(12), limit_slippage_bps=d(50)
    )


def test_the_config_refuses_a_bracket_with_only_one_distance() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config({"quoting": {"bracket_take_profit_bps": 10}}, source="test")

    assert any("quoting.bracket_stop_loss_bps" in line for line in refused.value.problems)


# --- the whole logic on the sim -------------------------------------------------------


@dataclass
class BracketCounter:
    """Observes the driver's traffic: which cloids were brackets and which of them filled."""

    bracket_cloids: set[str] = field(default_factory=set)
    bracket_fills: int = 0
    quote_fills: int = 0

    def __call__(self, message: object) -> None:
        if isinstance(message, PlaceOrders):
            self.bracket_cloids |= {o.cloid for o in message.orders if o.trigger is not None}
        elif isinstance(message, FillBooked):
            if message.fill.cloid in self.bracket_cloids:
                self.bracket_fills += 1
            else:
                self.quote_fills += 1


def test_on_the_sim_brackets_fire_and_stop_trading_leaves_no_trigger_order_behind(
    tmp_path: Path,
) -> None:
    base = MakerdConfig()
    quoting = dataclasses.replace(
        base.quoting, bracket_take_profit_bps=d(5), bracket_stop_loss_bps=d(5)
    )
    config = dataclasses.replace(base, quoting=quoting)
    clock = ManualClock(SIM_EPOCH_NS)
    instrument = sim_instrument(config.sim, config.coin)
    venue = SimVenue(instrument, sim=config.sim, paper=config.paper, start_ns=clock.now_ns())
    journal = Journal(tmp_path / "journal.sqlite")
    counter = BracketCounter()
    try:
        gate = TradingGate()
        deps = Dependencies(
            config=config,
            instrument=instrument,
            journal=journal,
            session_id=journal.start_session(mode="backtest", coin="BTC", ts_ns=clock.now_ns()),
            latch=KillSwitchLatch(tmp_path),
            new_cloid=CloidFactory(run_prefix=9),
            clock=clock,
            gate=gate,
        )
        logics = {role: build() for role, build in logic_factories(deps).items()}
        driver = DeterministicDriver(
            logics=logics,
            venue=venue,
            clock=clock,
            step_ns=config.sim.step_ms * MS,
            timer_interval_ns=100 * MS,
            observer=counter,
            gate=gate,
        )
        driver.start()
        driver.run_for(60 * S)
        manager_logic = logics[ORDER_MANAGER]
        assert isinstance(manager_logic, OrderManagerLogic)
        # Stop while a position is open, so a pair is waiting at the venue when we do.
        give_up_ns = clock.now_ns() + 60 * S
        while not _brackets(manager_logic) and clock.now_ns() < give_up_ns:
            driver.step()
        brackets_before_stop = _brackets(manager_logic)

        driver.deliver(StopTrading(reason="test", flatten=False, ts_local=clock.now_ns()))
        driver.run_for(2 * S)
    finally:
        journal.close()

    assert counter.quote_fills > 0
    assert counter.bracket_fills > 0, "the mark reached a take-profit or stop-loss"
    assert len(brackets_before_stop) == 2, "a pair was waiting when trading stopped"
    assert venue.exchange.open_order_count == 0, "no trigger order outlives StopTrading"


def _brackets(om: OrderManagerLogic) -> list[str]:
    return [order.cloid for order in om.orders.all() if order.trigger is not None]
