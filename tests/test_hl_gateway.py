"""The order gateway speaking to the local venue: real signing, real HTTP, no makerd
process. Placements, modifies, cancels, refusals, the dead-man switch and the budget."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

import pytest
from eth_account import Account

from makerd.actors.gate import TradingGate
from makerd.protocol.account import PositionReported
from makerd.protocol.orders import (
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
    RequestAccountSnapshot,
)
from makerd.protocol.rejections import RejectReason
from makerd.protocol.side import Side
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.account_queries import AccountQueries
from makerd.venues.hyperliquid.dead_man import DeadManSwitch
from makerd.venues.hyperliquid.endpoints import websocket_url
from makerd.venues.hyperliquid.meta_fetch import fetch_listing
from makerd.venues.hyperliquid.nonces import NonceSource
from makerd.venues.hyperliquid.orders import OrderGateway
from makerd.venues.hyperliquid.post_channel import PostChannel
from makerd.venues.hyperliquid.rate_budget import Priority, RateBudget
from makerd.venues.hyperliquid.requests import SignedSender
from makerd.venues.hyperliquid.rest import RestClient, fetch_info_blocking
from makerd.venues.hyperliquid.secrets import PrivateKey
from makerd.venues.hyperliquid.signing import L1Signer
from makerd.venues.hyperliquid.state import OrderLegs
from makerd.venues.hyperliquid.ws_connection import ReconnectPolicy

S = 1_000_000_000
T0 = 1_700_000_000 * S


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
    lifts: list[bool] = field(default_factory=list)
    """One for each accepted action that ended the budget's rate-limit backoff."""
    gate: TradingGate = field(default_factory=TradingGate)
    budget: RateBudget = field(default_factory=lambda: RateBudget(weight_per_minute=600))
    # The exchange checks a dead-man time against its own clock, so those tests run on ours.
    clock: Callable[[], int] = field(default=lambda: T0)
    others: tuple[str, ...] = ()
    """Coins quoted beside BTC (a process with several coins)."""
    posts_url: str | None = None
    """Post actions over this venue's WebSocket (``post``) instead of HTTP."""
    post_timeout_s: float = 2.0
    gateway: OrderGateway | None = field(default=None, init=False)
    """The gateway of the last :meth:`run`, kept to read its dead-man switch after it."""

    @property
    def dead_man(self) -> DeadManSwitch:
        assert self.gateway is not None, "run() first"
        return self.gateway.dead_man

    def run(self, *commands: object, together: bool = False) -> list[object]:
        """Execute ``commands`` one after another, or all at once (``together``)."""
        return asyncio.run(self._run(commands, together=together))

    async def _run(self, commands: tuple[object, ...], *, together: bool) -> list[object]:
        posts = None
        if self.posts_url is not None:
            posts = PostChannel(
                url=websocket_url(self.posts_url),
                policy=ReconnectPolicy(initial_backoff_s=0.05),
                now_ns=time.time_ns,
                timeout_s=self.post_timeout_s,
            )
            channel = asyncio.create_task(posts.run())
            while not posts.ready:
                await asyncio.sleep(0.01)
        rest = RestClient(self.rest_url or self.url, self.budget, timeout_s=2.0, posts=posts)
        await rest.open()
        signer = L1Signer(PrivateKey.from_hex(self.key, source="test"))
        sender = SignedSender(
            rest=rest,
            signer=signer,
            is_mainnet=False,
            vault_address=None,
            settle=lambda: self.settled.append(True),
            nonces=NonceSource(time.time_ns),  # nonces must be near the venue's clock
            lifted=lambda: self.lifts.append(True),
        )
        gateway = OrderGateway(
            sender=sender,
            instrument=fetch_listing(self.url, "BTC").instrument,
            legs=self.legs,
            queries=AccountQueries(rest, user=signer.address, now_ns=self.clock),
            emit=self.emitted.append,
            settle=lambda: self.settled.append(True),
            now_ns=self.clock,
            gate=self.gate,
            dead_man_max_failures=3,
            others=tuple(fetch_listing(self.url, coin).instrument for coin in self.others),
        )
        self.gateway = gateway
        try:
            if together:
                await asyncio.gather(*(gateway.execute(c) for c in commands))  # type: ignore[arg-type]
            for command in () if together else commands:
                await gateway.execute(command)  # type: ignore[arg-type]
        finally:
            await rest.close()
            if posts is not None:
                channel.cancel()
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
    backoff_s = harness.budget.seconds_until(1, priority=Priority.TRADE)
    assert backoff_s > 0
    assert harness.budget.seconds_until(1, priority=Priority.CANCEL) == 0
    said_s = events[0].retry_after_ns / 1e9
    assert backoff_s <= said_s <= backoff_s + 1.0, "the rejection says the budget's own backoff"


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
    assert harness.dead_man.refused


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
    assert harness.dead_man.armed
    assert harness.dead_man.failures_total == 2
    assert not harness.dead_man.refused


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


def test_a_reduce_only_quote_decided_before_a_stop_but_sent_after_it_never_reaches_the_venue(
    venue_url: str,
) -> None:
    # Near a limit every quote is reduce-only. The closed gate let any reduce-only order
    # by as if it were the stop's flatten, so such a quote rested after the stop request.
    harness = Harness(venue_url)
    order = replace(resting_bid(venue_url, 8), reduce_only=True)
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
    refill_s = harness.budget.seconds_until(10, priority=Priority.TRADE)
    assert 0 < events[0].retry_after_ns / 1e9 <= refill_s + 1.0, "it says when to try again"


def test_questions_asked_while_the_same_one_waits_for_budget_are_answered_by_it(
    venue_url: str,
) -> None:
    """Six asks about BTC while the budget is down to the query reserve (a rate limit just
    ended, cancels were refused): one snapshot, sent after the last ask, answers them all.
    Before, each ask waited with its own queries and they drained the budget one by one."""
    harness = Harness(venue_url, clock=time.time_ns)
    while harness.budget.try_spend(10, priority=Priority.QUERY) == 0:
        pass  # spend the bucket down to the query reserve
    spent = harness.budget.weight_spent
    asks = [RequestAccountSnapshot(coin="BTC", ts_local=time.time_ns()) for _ in range(6)]

    events = harness.run(*asks, together=True)

    reports = [e for e in events if isinstance(e, OpenOrdersReported)]
    assert len(reports) == 1, "one answer for the six questions"
    assert reports[0].ts_local >= max(ask.ts_local for ask in asks), "sent after every ask"
    assert harness.budget.weight_spent - spent == 20 + 2, "one open-orders and one position query"


def test_after_a_stop_asking_what_rests_does_not_wait_behind_repairs(venue_url: str) -> None:
    harness = Harness(venue_url, clock=time.time_ns)
    while harness.budget.try_spend(10, priority=Priority.QUERY) == 0:
        pass  # what a run of fill repairs leaves: the bucket down to the query reserve
    harness.gate.close("stopping")

    started = time.monotonic()
    events = harness.run(RequestAccountSnapshot(coin="BTC", ts_local=T0))

    assert [type(e) for e in events] == [OpenOrdersReported, PositionReported]
    assert time.monotonic() - started < 1.0, "the stop's question waited for budget to refill"


def test_an_answer_is_stamped_when_it_arrives_not_when_it_was_asked(venue_url: str) -> None:
    """A question that waited its turn in the request budget used to carry the time it was
    asked. The exchange's time in the answer then looked seconds ahead of ours, and the
    snapshot was dropped as a frame from the future: a stop with several coins could not
    confirm 0 open orders. Here the first reading of the clock, the one taken when asking,
    is 10 s old."""
    first_reading = [time.time_ns() - 10 * 1_000_000_000]
    harness = Harness(
        venue_url, clock=lambda: first_reading.pop() if first_reading else time.time_ns()
    )

    events = harness.run(RequestAccountSnapshot(coin="BTC", ts_local=T0))

    assert [type(e) for e in events] == [OpenOrdersReported, PositionReported]
