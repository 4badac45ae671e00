"""The live adapter's parts: order races, rate budget, rejection storms, and the order
gateway speaking to the local venue (real signing, real HTTP, no makerd process)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from eth_account import Account

from actors.gate import TradingGate
from actors.risk_guardian import RiskGuardianLogic
from config.model import RiskConfig
from makerd.latch import KillSwitchLatch
from protocol.account import Liquidity, OrderFilled, PositionReported
from protocol.orders import (
    ArmDeadManSwitch,
    CancelOrders,
    CancelReason,
    DeadManSwitchArmed,
    DeadManSwitchLost,
    ModifyOrders,
    OpenOrdersReported,
    OrderAccepted,
    OrderAmendment,
    OrderCancelled,
    OrderModified,
    OrderRejected,
    OrderRequest,
    PlaceOrders,
    RejectReason,
    RequestAccountSnapshot,
)
from protocol.risk import KillReason, KillSwitchTripped
from protocol.side import Side
from venues.hl_local.background import VenueThread
from venues.hl_local.server import VenueConfig
from venues.hyperliquid.account_queries import AccountQueries
from venues.hyperliquid.orders import OrderGateway
from venues.hyperliquid.rate_budget import Priority, RateBudget, action_weight, info_weight
from venues.hyperliquid.requests import SignedSender
from venues.hyperliquid.rest import RestClient, fetch_info_blocking, websocket_url
from venues.hyperliquid.secrets import PrivateKey
from venues.hyperliquid.signing import L1Signer
from venues.hyperliquid.state import OrderLegs, PendingFills
from venues.hyperliquid.venue import fetch_instrument

S = 1_000_000_000
T0 = 1_700_000_000 * S


def rejected(reason: RejectReason, at_s: float) -> OrderRejected:
    ts = T0 + int(at_s * S)
    return OrderRejected(
        cloid="0x" + "1" * 32, reason=reason, message="no", ts_exchange=ts, ts_local=ts
    )


def test_five_rejections_of_one_kind_within_ten_seconds_trip_the_kill_switch(
    tmp_path: Path,
) -> None:
    risk = RiskGuardianLogic(config=RiskConfig(), latch=KillSwitchLatch(tmp_path))

    out = [m for i in range(5) for m in risk.handle(rejected(RejectReason.HALTED, i * 2))]

    trips = [m for m in out if isinstance(m, KillSwitchTripped)]
    assert [t.reason for t in trips] == [KillReason.REJECTION_STORM]
    assert KillSwitchLatch(tmp_path).read() is not None


def test_rejections_spread_out_or_post_only_crossings_do_not_trip(tmp_path: Path) -> None:
    risk = RiskGuardianLogic(config=RiskConfig(), latch=KillSwitchLatch(tmp_path))

    slow = [m for i in range(8) for m in risk.handle(rejected(RejectReason.HALTED, i * 3))]
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
    assert legs.opened(cloid, 1)
    legs.modify_started(cloid)

    old_leg_cancel_is_about_the_order = not legs.is_old_leg(cloid, 1)
    legs.modify_finished(cloid)
    new_leg_is_news = legs.opened(cloid, 2)

    assert not old_leg_cancel_is_about_the_order
    assert new_leg_is_news
    assert legs.is_old_leg(cloid, 1)
    assert not legs.opened(cloid, 2), "the same leg reported twice is news once"


def test_a_fill_for_an_unknown_oid_waits_for_its_order_then_carries_its_cloid() -> None:
    legs = OrderLegs()
    held = PendingFills(hold_ns=2 * S)
    held.hold(a_fill(7))

    before = held.release(legs, T0 + S // 10)
    legs.opened("0x" + "b" * 32, 7)
    after = held.release(legs, T0 + S // 5)

    assert before == []
    assert [f.cloid for f in after] == ["0x" + "b" * 32]


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


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=5, tick_interval_s=0.2))
    url = venue.start()
    yield url
    venue.stop()


def fault(url: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        url + "/_debug/faults", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


@dataclass
class Harness:
    """An OrderGateway wired to real parts, with what it emitted and settled."""

    url: str
    rest_url: str | None = None
    emitted: list[object] = field(default_factory=list)
    settled: list[bool] = field(default_factory=list)
    gate: TradingGate = field(default_factory=TradingGate)
    budget: RateBudget = field(default_factory=lambda: RateBudget(weight_per_minute=600))
    # The exchange checks a dead-man time against its own clock, so those tests run on ours.
    clock: Callable[[], int] = field(default=lambda: T0)

    def run(self, *commands: object) -> list[object]:
        return asyncio.run(self._run(commands))

    async def _run(self, commands: tuple[object, ...]) -> list[object]:
        rest = RestClient(self.rest_url or self.url, self.budget, timeout_s=2.0)
        await rest.open()
        signer = L1Signer(PrivateKey.from_hex(self.key, source="test"))
        sender = SignedSender(
            rest=rest,
            signer=signer,
            is_mainnet=False,
            vault_address=None,
            settle=lambda: self.settled.append(True),
            now_ns=time.time_ns,  # nonces must be near the venue's clock
        )
        self.gateway = OrderGateway(
            sender=sender,
            instrument=fetch_instrument(self.url, "BTC"),
            legs=self.legs,
            queries=AccountQueries(rest, user=signer.address),
            emit=self.emitted.append,
            settle=lambda: self.settled.append(True),
            now_ns=self.clock,
            gate=self.gate,
            dead_man_max_failures=3,
        )
        try:
            for command in commands:
                await self.gateway.execute(command)  # type: ignore[arg-type]
        finally:
            await rest.close()
        return self.emitted

    def __post_init__(self) -> None:
        self.key = Account.create().key.hex()
        self.legs = OrderLegs()


def resting_bid(url: str, cloid_n: int, *, below: int = 200) -> OrderRequest:
    book = fetch_info_blocking(url, {"type": "l2Book", "coin": "BTC"}, timeout_s=5)
    assert isinstance(book, dict)
    best_bid = Decimal(book["levels"][0][0]["px"])
    return OrderRequest(
        cloid=f"0x{cloid_n:032x}",
        coin="BTC",
        side=Side.BUY,
        price=Decimal(int(best_bid) - below),
        size=Decimal("0.001"),
    )


def test_a_placed_order_is_accepted_modified_to_a_new_oid_and_cancelled(venue_url: str) -> None:
    harness = Harness(venue_url)
    order = resting_bid(venue_url, 1)
    amend = OrderAmendment(cloid=order.cloid, price=order.price - 10, size=Decimal("0.002"))

    events = harness.run(
        PlaceOrders(orders=(order,), ts_local=time.time_ns()),
        ModifyOrders(amendments=(amend,), ts_local=time.time_ns()),
        CancelOrders(cloids=(order.cloid,), reason=CancelReason.REQUOTE, ts_local=T0),
    )

    accepted, modified, cancelled = events
    assert isinstance(accepted, OrderAccepted)
    assert isinstance(modified, OrderModified)
    assert modified.venue_order_id != accepted.venue_order_id
    assert (modified.price, modified.size) == (amend.price, amend.size)
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.reason is CancelReason.REQUOTE


def test_an_exchange_refusal_becomes_a_typed_rejection_with_the_exchange_text(
    venue_url: str,
) -> None:
    harness = Harness(venue_url)
    fault(venue_url, {"reject_next": 1, "reject_text": "Trading is halted."})

    events = harness.run(PlaceOrders(orders=(resting_bid(venue_url, 2),), ts_local=time.time_ns()))

    assert len(events) == 1
    assert isinstance(events[0], OrderRejected)
    assert events[0].reason is RejectReason.HALTED
    assert events[0].message == "Trading is halted."


def test_a_rate_limit_answer_rejects_as_rate_limited_and_backs_off_new_orders(
    venue_url: str,
) -> None:
    harness = Harness(venue_url)
    fault(venue_url, {"rate_limit_next": 1})

    events = harness.run(PlaceOrders(orders=(resting_bid(venue_url, 3),), ts_local=time.time_ns()))

    assert [type(e) for e in events] == [OrderRejected]
    assert isinstance(events[0], OrderRejected)
    assert events[0].reason is RejectReason.RATE_LIMITED
    assert harness.budget.rate_limited_total == 1
    assert harness.budget.seconds_until(1, priority=Priority.TRADE) > 0
    assert harness.budget.seconds_until(1, priority=Priority.CANCEL) == 0


def test_a_refused_dead_man_switch_is_reported_once_and_not_retried(
    venue_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(venue_url)
    text = "Cannot set scheduled cancel time until enough volume traded. Required: $1000000."
    fault(venue_url, {"reject_next": 1, "reject_text": text})
    arm = ArmDeadManSwitch(cancel_at_ns=T0 + 60 * S, ts_local=T0)

    with caplog.at_level(logging.WARNING, logger="makerd.venue.orders"):
        harness.run(arm, arm, arm)

    warnings = [r for r in caplog.records if "dead_man_switch_refused" in r.getMessage()]
    assert len(warnings) == 1
    assert "process-side watchdog" in warnings[0].getMessage()
    assert harness.gateway.dead_man.refused


def test_a_lost_answer_emits_nothing_definitive_and_asks_the_venue_instead(
    venue_url: str,
) -> None:
    harness = Harness(venue_url, rest_url="http://127.0.0.1:9")  # the answer never comes

    events = harness.run(PlaceOrders(orders=(resting_bid(venue_url, 4),), ts_local=time.time_ns()))

    assert events == []
    assert harness.settled == [True]


def test_a_transient_dead_man_refusal_is_retried_until_the_switch_is_armed(
    venue_url: str,
) -> None:
    harness = Harness(venue_url, clock=time.time_ns)
    now = time.time_ns()
    fault(venue_url, {"reject_next": 2, "reject_text": "Trading is halted."})

    events = harness.run(ArmDeadManSwitch(cancel_at_ns=now + 60 * S, ts_local=now))

    assert [type(e) for e in events] == [DeadManSwitchArmed]
    assert harness.gateway.dead_man.armed
    assert harness.gateway.dead_man.failures_total == 2
    assert not harness.gateway.dead_man.refused


def test_repeated_dead_man_failures_report_the_switch_lost_then_armed(venue_url: str) -> None:
    harness = Harness(venue_url, clock=time.time_ns)
    now = time.time_ns()
    fault(venue_url, {"reject_next": 3, "reject_text": "Trading is halted."})

    events = harness.run(ArmDeadManSwitch(cancel_at_ns=now + 60 * S, ts_local=now))

    assert [type(e) for e in events] == [DeadManSwitchLost, DeadManSwitchArmed]


def test_an_order_decided_before_a_stop_but_sent_after_it_never_reaches_the_venue(
    venue_url: str,
) -> None:
    harness = Harness(venue_url)
    order = resting_bid(venue_url, 5)
    harness.gate.close("stopping")

    events = harness.run(PlaceOrders(orders=(order,), ts_local=time.time_ns()))

    assert [type(e) for e in events] == [OrderRejected]
    assert isinstance(events[0], OrderRejected)
    assert events[0].reason is RejectReason.STOPPING
    assert harness.budget.actions_sent == 0


def test_an_order_with_no_budget_left_is_refused_at_once_not_queued(venue_url: str) -> None:
    harness = Harness(venue_url)
    while harness.budget.try_spend(10, priority=Priority.TRADE) == 0:
        pass  # spend the bucket down to the reserve

    started = time.monotonic()
    events = harness.run(PlaceOrders(orders=(resting_bid(venue_url, 6),), ts_local=time.time_ns()))

    assert [type(e) for e in events] == [OrderRejected]
    assert isinstance(events[0], OrderRejected)
    assert events[0].reason is RejectReason.RATE_LIMITED
    assert harness.budget.actions_sent == 0
    assert time.monotonic() - started < 5.0, "refused, not held until the bucket refills"


def test_after_a_stop_asking_what_rests_does_not_wait_behind_repairs(venue_url: str) -> None:
    harness = Harness(venue_url, clock=time.time_ns)
    while harness.budget.try_spend(10, priority=Priority.QUERY) == 0:
        pass  # what a run of fill repairs leaves: the bucket down to the query reserve
    harness.gate.close("stopping")

    started = time.monotonic()
    events = harness.run(RequestAccountSnapshot(coin="BTC", ts_local=T0))

    assert [type(e) for e in events] == [OpenOrdersReported, PositionReported]
    assert time.monotonic() - started < 1.0, "the stop's question waited for budget to refill"
