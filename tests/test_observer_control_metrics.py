"""What the observer shows about control: dead-man switch, late fills, position mismatches."""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal

from prometheus_client import CollectorRegistry

from makerd.daemon.metrics import Metrics
from makerd.daemon.observer import Observer
from makerd.protocol.account import FillBooked, PositionMismatch
from makerd.protocol.clock import ManualClock
from makerd.protocol.control import OperatorAction
from makerd.protocol.orders import DeadManSwitchArmed, DeadManSwitchLost
from makerd.protocol.side import Side
from tests.kit import T0, book, fill, operator_applied

LABELS = {"venue": "live", "symbol": "BTC"}


def observed(*messages: object) -> CollectorRegistry:
    registry = CollectorRegistry()
    observer = Observer(
        metrics=Metrics(registry, venue="live", symbol="BTC", process_collectors=False),
        clock=ManualClock(T0),
    )
    for message in messages:
        observer(message)
    return registry


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    found = registry.get_sample_value(name, {**LABELS, **labels})
    assert found is not None, name
    return found


def lost(failures: int) -> DeadManSwitchLost:
    return DeadManSwitchLost(failures=failures, message="Trading is halted.", ts_local=T0)


ARMED = DeadManSwitchArmed(cancel_at_ns=T0 + 30 * 10**9, ts_local=T0)


def test_the_dead_man_gauge_is_unknown_until_the_venue_answers() -> None:
    assert math.isnan(value(observed(), "makerd_dead_man_switch_armed"))


def test_a_streak_of_failures_counts_as_one_loss_until_a_re_arm_holds() -> None:
    registry = observed(ARMED, lost(3), lost(4), lost(5), ARMED, lost(3))

    assert value(registry, "makerd_dead_man_switch_lost_total") == 2
    assert value(registry, "makerd_dead_man_switch_armed") == 0


def test_a_re_armed_switch_shows_armed_again() -> None:
    assert value(observed(lost(3), ARMED), "makerd_dead_man_switch_armed") == 1


def test_late_fills_and_adjusted_positions_are_counted() -> None:
    on_time = fill("1", Side.BUY, "60000", "0.001")
    late = dataclasses.replace(fill("2", Side.BUY, "60000", "0.001"), late=True)
    booked = [
        FillBooked(fill=f, position_after=Decimal(0), realized_pnl=Decimal(0), ts_local=T0)
        for f in (on_time, late)
    ]
    mismatch = PositionMismatch(
        coin="BTC", booked=Decimal(0), venue=Decimal("0.001"), action="adjusted", ts_local=T0
    )

    registry = observed(*booked, mismatch)

    assert value(registry, "makerd_fills_late_total") == 1
    assert value(registry, "makerd_position_mismatches_total", action="adjusted") == 1
    assert value(registry, "makerd_position_mismatches_total", action="repair") == 0


def test_a_fill_off_the_lot_grid_is_counted() -> None:
    booked = [
        FillBooked(
            fill=fill(trade, Side.BUY, "60000", "0.001"),
            position_after=Decimal(0),
            realized_pnl=Decimal(0),
            ts_local=T0,
            off_lot_grid=off,
        )
        for trade, off in (("1", False), ("2", True))
    ]

    assert value(observed(*booked), "makerd_fills_off_lot_grid_total") == 1


def test_an_operator_pause_shows_on_its_gauge_until_resumed() -> None:
    paused = observed(operator_applied(OperatorAction.PAUSE, paused=True))
    resumed = observed(
        operator_applied(OperatorAction.PAUSE, paused=True),
        operator_applied(OperatorAction.RESUME, paused=False),
    )

    assert value(observed(), "makerd_operator_paused") == 0
    assert value(paused, "makerd_operator_paused") == 1
    assert value(resumed, "makerd_operator_paused") == 0


def test_each_book_is_counted_and_its_mid_and_time_shown() -> None:
    registry = observed(
        book("99", "101", ts=T0), book("100", "102", ts=T0 + 1), book("101", "105", ts=T0 + 2)
    )

    assert value(registry, "makerd_feed_messages_total", channel="l2Book") == 3
    assert value(registry, "makerd_mid_price_usd") == 103
    assert value(registry, "makerd_feed_last_message_timestamp_seconds") == (T0 + 2) / 1e9
