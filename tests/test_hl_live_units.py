"""The live adapter's parts: order races, rate budget and rejection storms (the order
gateway against the local venue is in test_hl_gateway.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.config.model import RiskConfig
from makerd.daemon.latch import KillSwitchLatch
from makerd.protocol.account import Liquidity, OrderFilled
from makerd.protocol.orders import CLOCK_SKEW_NS, OrderRejected
from makerd.protocol.rejections import RejectReason
from makerd.protocol.risk import KillReason, KillSwitchTripped
from makerd.protocol.side import Side
from makerd.venues.hyperliquid.endpoints import websocket_url
from makerd.venues.hyperliquid.lifetimes import ActionLifetime
from makerd.venues.hyperliquid.pending_fills import PendingFills
from makerd.venues.hyperliquid.rate_budget import Priority, RateBudget, action_weight, info_weight
from makerd.venues.hyperliquid.state import OrderLegs
from makerd.venues.hyperliquid.unsettled import UnsettledActions

S = 1_000_000_000
T0 = 1_700_000_000 * S
FOUR_S = ActionLifetime(expires_ns=T0 + 4 * S)
"""An action decided at ``T0``: it expires 4 s later."""


def rejected(reason: RejectReason, at_s: float) -> OrderRejected:
    ts = T0 + int(at_s * S)
    return OrderRejected(
        cloid="0x" + "1" * 32, reason=reason, message="no", ts_exchange=ts, ts_local=ts
    )


def test_five_rejections_of_one_kind_within_ten_seconds_trip_the_kill_switch(
    tmp_path: Path,
) -> None:
    risk = RiskGuardianLogic(config=RiskConfig(), latch=KillSwitchLatch(tmp_path))

    out = [m for i in range(5) for m in risk.handle(rejected(RejectReason.OTHER, i * 2))]

    trips = [m for m in out if isinstance(m, KillSwitchTripped)]
    assert [t.reason for t in trips] == [KillReason.REJECTION_STORM]
    assert KillSwitchLatch(tmp_path).read() is not None


def test_rejections_spread_out_or_post_only_crossings_do_not_trip(tmp_path: Path) -> None:
    risk = RiskGuardianLogic(config=RiskConfig(), latch=KillSwitchLatch(tmp_path))

    slow = [m for i in range(8) for m in risk.handle(rejected(RejectReason.OTHER, i * 3))]
    crossing = [
        m
        for i in range(20)
        for m in risk.handle(rejected(RejectReason.POST_ONLY_WOULD_CROSS, 30 + i * 0.1))
    ]

    assert slow == []
    assert crossing == []


def a_fill(oid: int, *, cloid: str | None = None, at_ns: int = T0) -> OrderFilled:
    return OrderFilled(
        trade_id=f"BTC:{oid}",
        cloid=cloid,
        venue_order_id=oid,
        coin="BTC",
        side=Side.BUY,
        price=Decimal(100),
        size=Decimal(1),
        fee=Decimal(0),
        liquidity=Liquidity.MAKER,
        ts_exchange=at_ns,
        ts_local=at_ns,
    )


def test_a_modified_order_keeps_living_when_its_old_leg_reports_cancelled() -> None:
    legs = OrderLegs()
    cloid = "0x" + "a" * 32
    assert legs.opened(cloid, 1, heard_ns=T0)
    replaced = legs.modify_started(cloid)

    old_leg_cancel_is_about_the_order = not legs.is_old_leg(cloid, 1)
    legs.modify_finished(cloid, replaced)
    new_leg_is_news = legs.opened(cloid, 2, heard_ns=T0)

    assert not old_leg_cancel_is_about_the_order
    assert new_leg_is_news
    assert legs.is_old_leg(cloid, 1)
    assert not legs.opened(cloid, 2, heard_ns=T0), "the same leg reported twice is news once"


def test_a_fill_for_an_unknown_oid_waits_for_its_order_then_carries_its_cloid() -> None:
    legs = OrderLegs()
    held = PendingFills(hold_ns=2 * S)
    held.hold(a_fill(7))

    before = held.release(legs, T0 + S // 10)
    legs.opened("0x" + "b" * 32, 7, heard_ns=T0)
    after = held.release(legs, T0 + S // 5)

    assert before == []
    assert [f.cloid for f in after] == ["0x" + "b" * 32]


def test_the_answer_ties_its_oid_to_an_order_the_stream_already_reported_filled() -> None:
    # An IOC that fills on arrival: the stream's "filled" finished the order and its fill
    # (no cloid) is held before the action's answer names the oid. The answer still ties
    # the oid to the order; before, the fill waited the whole hold as nobody's.
    legs = OrderLegs()
    held = PendingFills(hold_ns=2 * S)
    cloid = "0x" + "c" * 32
    held.hold(a_fill(11))
    legs.finished(cloid)

    news = legs.opened(cloid, 11, heard_ns=T0)
    released = held.release(legs, T0 + S // 5)

    assert not news, "a finished order is not reported again"
    assert [f.cloid for f in released] == [cloid]


def test_a_fill_nobody_claims_is_still_delivered_after_the_hold() -> None:
    held = PendingFills(hold_ns=2 * S)
    held.hold(a_fill(9))

    released = held.release(OrderLegs(), T0 + 3 * S)

    assert [f.venue_order_id for f in released] == [9]


def test_cancels_may_use_the_reserve_and_skip_the_backoff_that_new_orders_wait_for() -> None:
    now = [0.0]
    budget = RateBudget(weight_per_minute=60, clock=lambda: now[0])
    budget._tokens = 10.0

    place_wait = budget.seconds_until(1, priority=Priority.TRADE)
    cancel_wait = budget.seconds_until(1, priority=Priority.CANCEL)
    budget._tokens = 60.0
    pause = budget.record_rate_limited()

    assert place_wait > 0
    assert cancel_wait == 0
    assert budget.seconds_until(1, priority=Priority.TRADE) == pytest.approx(pause)
    assert budget.seconds_until(1, priority=Priority.CANCEL) == 0


def test_refusals_in_flight_during_a_backoff_do_not_stretch_it() -> None:
    now = [0.0]
    budget = RateBudget(weight_per_minute=600, clock=lambda: now[0])
    first = budget.record_rate_limited()
    for _ in range(6):  # a batch of requests that were already on their way, all refused
        budget.record_rate_limited()
    now[0] += first  # the episode is over; the next refusal is a new one
    second = budget.record_rate_limited()

    assert first <= 1.0
    assert second <= 2.0, "one episode doubles the pause once, not once per refusal"
    assert budget.rate_limited_total == 8


def test_request_weights_follow_the_exchange_table_and_the_ws_url_the_sdk_rule() -> None:
    assert (info_weight("l2Book"), info_weight("openOrders")) == (2, 20)
    assert (action_weight(1), action_weight(39), action_weight(79)) == (1, 1, 2)
    assert websocket_url("http://127.0.0.1:8787") == "ws://127.0.0.1:8787/ws"
    assert websocket_url("https://api.hyperliquid.xyz") == "wss://api.hyperliquid.xyz/ws"


def test_an_unsettled_placement_counts_against_its_own_coin_only() -> None:
    unsettled = UnsettledActions()
    unsettled.sent(coins=["BTC", "BTC", "ETH"], lifetime=FOUR_S)

    counts = {coin: unsettled.orders_at(coin, T0) for coin in ("BTC", "ETH", "SOL")}

    assert counts == {"BTC": 2, "ETH": 1, "SOL": 0}


def test_a_placement_answered_while_a_report_was_on_its_way_still_counts_for_that_report() -> None:
    unsettled = UnsettledActions()
    token = unsettled.sent(coins=["BTC"], lifetime=FOUR_S)
    asked = unsettled.mark()
    unsettled.answered(token)  # resting: the venue may have listed just before it placed
    sent_after = unsettled.sent(coins=["BTC", "BTC"], lifetime=FOUR_S)
    unsettled.answered(sent_after)

    assert unsettled.orders_at("BTC", T0 + S, asked) == 3
    assert unsettled.orders_at("BTC", T0 + S) == 0, "a report asked now is not in doubt"


def test_a_lost_placement_counts_until_it_expires_and_the_clock_skew_has_passed() -> None:
    unsettled = UnsettledActions()
    unsettled.lost(unsettled.sent(coins=["ETH"], lifetime=FOUR_S))

    assert unsettled.orders_at("ETH", T0 + 4 * S) == 1
    assert unsettled.orders_at("ETH", T0 + 4 * S + CLOCK_SKEW_NS) == 0
