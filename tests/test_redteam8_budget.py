"""A tight request budget: a modify refused whole asks the venue nothing.

Before, every modify the request budget (or the exchange's rate limit) refused asked the
venue for every coin's snapshot, as if the refused action might have cancelled the order.
Nothing of a refused action runs. At 240 weight a minute with three coins each refusal
cost 66 weight at the query reserve (24), so the bucket never refilled to the 49 a new
order needs: a coin whose orders filled was left with none for minutes.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from makerd.protocol.orders import (
    ModifyOrders,
    ModifyRejected,
    OrderAccepted,
    OrderAmendment,
    PlaceOrders,
)
from makerd.protocol.rejections import RejectReason
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.rate_budget import Priority, RateBudget
from makerd.venues.hyperliquid.rest import fetch_info_blocking
from tests.kit import MS, T0, S, of_type, target
from tests.test_coins_live import COINS, BasketTrader
from tests.test_hl_gateway import Harness, resting_bid
from tests.test_hl_live_e2e import fault, wait_until
from tests.test_redteam8_truth import quoting_two_bids


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=8, tick_interval_s=0.2))
    yield venue.start()
    venue.stop()


def placed_bid(venue_url: str, cloid_n: int) -> tuple[Harness, OrderAmendment]:
    """A resting BTC bid at 240 weight a minute, and an amendment moving it 10 lower."""
    harness = Harness(venue_url, budget=RateBudget(weight_per_minute=240), clock=time.time_ns)
    order = resting_bid(venue_url, cloid_n)
    events = harness.run(PlaceOrders(orders=(order,), ts_local=time.time_ns()))
    assert [type(e) for e in events] == [OrderAccepted]
    return harness, OrderAmendment(cloid=order.cloid, price=order.price - 10, size=order.size)


def modify_rejections(events: list[object]) -> list[tuple[str, RejectReason]]:
    return [(e.cloid, e.reason) for e in events if isinstance(e, ModifyRejected)]


def test_a_modify_the_request_budget_refuses_asks_the_venue_nothing(venue_url: str) -> None:
    harness, amend = placed_bid(venue_url, 0x801)
    # Quoting has spent the bucket to 40: under the 48 (a fifth) kept from new risk.
    harness.budget.try_spend(int(harness.budget.weight_left) - 40, priority=Priority.CANCEL)
    already = len(harness.emitted)

    events = harness.run(ModifyOrders(amendments=(amend,), ts_local=time.time_ns()))[already:]

    assert modify_rejections(events) == [(amend.cloid, RejectReason.RATE_LIMITED)]
    [refusal] = [e for e in events if isinstance(e, ModifyRejected)]
    assert refusal.retry_after_ns > 0, "it says how long the budget refuses new risk"
    assert harness.settled == [], "the action never left: nothing to ask the venue"


def test_a_modify_the_exchange_rate_limits_asks_the_venue_nothing(venue_url: str) -> None:
    harness, amend = placed_bid(venue_url, 0x802)
    fault(venue_url, {"rate_limit_next": 1})
    already = len(harness.emitted)

    events = harness.run(ModifyOrders(amendments=(amend,), ts_local=time.time_ns()))[already:]

    assert modify_rejections(events) == [(amend.cloid, RejectReason.RATE_LIMITED)]
    assert harness.settled == [], "refused whole: the order rests as it did"


def test_a_modify_the_venue_refuses_for_its_order_still_asks_what_rests(venue_url: str) -> None:
    harness, amend = placed_bid(venue_url, 0x803)
    book = fetch_info_blocking(venue_url, {"type": "l2Book", "coin": "BTC"}, timeout_s=5)
    assert isinstance(book, dict)
    above_the_ask = Decimal(book["levels"][1][0]["px"]) + 100
    crossing = OrderAmendment(cloid=amend.cloid, price=above_the_ask, size=amend.size)
    already = len(harness.emitted)

    events = harness.run(ModifyOrders(amendments=(crossing,), ts_local=time.time_ns()))[already:]

    [(cloid, reason)] = modify_rejections(events)
    assert (cloid, reason) == (amend.cloid, RejectReason.POST_ONLY_WOULD_CROSS)
    assert harness.settled == [True], "the venue may have cancelled the old leg: ask"


def quoting_actions(url: str, user: str) -> list[tuple[int, bool]]:
    """The account's placements and modifies as the venue received them: (time, accepted)."""
    with urllib.request.urlopen(f"{url}/_debug/account?user={user}", timeout=5) as response:
        actions = json.loads(response.read())["actions"]
    return [
        (int(a["time_ms"]), bool(a["accepted"]))
        for a in actions
        if a["type"] in ("order", "batchModify")
    ]


def accepted_since(url: str, user: str, since_ms: int) -> int:
    """Placements and modifies the venue took since ``since_ms`` (its clock, ms)."""
    return sum(1 for at, accepted in quoting_actions(url, user) if accepted and at >= since_ms)


def test_three_coins_at_240_a_minute_requote_within_seconds_of_a_rate_limit(
    tmp_path: Path, venue_url: str
) -> None:
    # While the exchange refuses every action, each modify refused used to ask every coin's
    # snapshot: the bucket sank to the query reserve (24) and, after the limit, each modify
    # the budget refused asked again. Nothing but cancels left for minutes.
    trader = BasketTrader(
        tmp_path, venue_url, hyperliquid={"api_url": venue_url, "request_weight_per_minute": 240}
    )
    makerd = trader.start(tmp_path)
    wait_until(lambda: min(trader.resting().values()) >= 1, timeout_s=60, process=makerd)

    fault(venue_url, {"rate_limit_for_s": 4, "rate_limit_kind": "address"})
    # Counted from the limit's end, not from the last action it refused: on a quiet
    # ladder an action refused late in the window left too few after it to count.
    limit_ends_ms = time.time_ns() // 1_000_000 + 4_000
    wait_until(
        lambda: accepted_since(venue_url, trader.address, limit_ends_ms) >= 10,
        # 8-26 s since waiting queries are served in order and a snapshot asked again
        # joins the answer on its way; 5-80 s before those, and minutes before the fix
        # above. The margin is for a loaded machine.
        timeout_s=90,
        step_s=0.5,
        process=makerd,
    )
    makerd.signal(signal.SIGTERM)
    code = makerd.finish(timeout=60)

    assert code == EXIT_OK, makerd.text[-3000:]
    assert trader.resting() == dict.fromkeys(COINS, 0)


def test_a_modify_refused_for_the_rate_limit_pauses_new_risk_as_long_as_the_budget_says() -> None:
    # Before, a refused modify paused nothing: every quote cycle during the refusal sent
    # the modify again, to be refused again (a warning line each, several a second).
    om, _ = quoting_two_bids()
    lower = [("59900", "0.002"), ("59890", "0.002")]
    [modify] = of_type(om.handle(target(lower, [], ts=T0 + 2 * S)), ModifyOrders)
    refused_at = T0 + 2 * S + MS
    for amendment in modify.amendments:
        om.handle(
            ModifyRejected(
                cloid=amendment.cloid,
                reason=RejectReason.RATE_LIMITED,
                message="local request budget: next order in 3.0s",
                ts_exchange=refused_at,
                ts_local=refused_at,
                retry_after_ns=3 * S,
            )
        )

    during = om.handle(target(lower, [], ts=refused_at + S))
    after = om.handle(target(lower, [], ts=refused_at + 3 * S + MS))

    assert of_type(during, ModifyOrders) == [], "the budget said 3 s: nothing sent before"
    assert of_type(after, ModifyOrders), "then the target is diffed against what rests"
