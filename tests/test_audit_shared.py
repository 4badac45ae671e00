"""Several coins' minute audits of what rests share one listing per perp dex.

Each coin's order manager audits the venue about once a minute while its truth is clean.
Counted from each coin's own last report, the audits fell apart (a coin made clean by a
retry, another by a fill's repair), and each paid its own listing: three coins cost 66
weight a minute where one listing and one position query, 22 a dex, answer all of them.
Now the audits fall on a grid of the clock every coin shares, and a question waits a few
milliseconds for the others of its tick, which each order manager sends from its own
thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import eth_account
import pytest

from makerd.actors.venue_truth import TruthTiming, VenueTruth
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.account_queries import AccountQueries
from makerd.venues.hyperliquid.rate_budget import RateBudget
from makerd.venues.hyperliquid.rest import RestClient

S = 1_000_000_000
TICK = S // 10
MINUTE = 60 * S
LISTING_AND_POSITION = 20 + 2
"""One ``frontendOpenOrders`` and one ``clearinghouseState``: one dex's snapshot."""


def audits(truth: VenueTruth, *, clean_at: int, until: int) -> list[int]:
    """When a truth made clean at ``clean_at`` audits, on the ticker's 100 ms ticks, each
    audit answered clean 5 ms later."""
    truth.asked(clean_at)
    truth.reported(orphans=False, in_doubt=False, now_ns=clean_at)
    asked: list[int] = []
    for now in range(clean_at - clean_at % TICK + TICK, until, TICK):
        if truth.due(now):
            truth.asked(now)
            truth.reported(orphans=False, in_doubt=False, now_ns=now + 5_000_000)
            asked.append(now)
    return asked


def test_coins_made_clean_at_different_times_audit_at_the_same_instants() -> None:
    cleaned = {"BTC": 3 * S + 7, "ETH": 17 * S, "DOGE": 41 * S + 300_000_000}

    asked = {
        coin: audits(VenueTruth(TruthTiming()), clean_at=at, until=5 * MINUTE)
        for coin, at in cleaned.items()
    }

    # Before: 63.1, 77.0 and 101.3 s, then a minute after each: three listings a minute.
    # Now each on the clock's minutes: DOGE, clean 18.7 s before the first, skips it.
    assert asked["BTC"] == asked["ETH"] == [MINUTE, 2 * MINUTE, 3 * MINUTE, 4 * MINUTE]
    assert asked["DOGE"] == [2 * MINUTE, 3 * MINUTE, 4 * MINUTE]


def test_an_audit_comes_between_half_and_one_and_a_half_intervals_after_a_clean_report() -> None:
    for clean_at in (0, 29 * S, 31 * S, 59 * S, 61 * S):
        first = audits(VenueTruth(TruthTiming()), clean_at=clean_at, until=clean_at + 2 * MINUTE)[0]
        assert MINUTE // 2 <= first - clean_at <= 3 * MINUTE // 2, (clean_at, first)


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    running = VenueThread(VenueConfig(port=0, auto_provision=True, seed=13, tick_interval_s=0.2))
    running.start()
    yield running
    running.stop()


def test_questions_of_one_tick_a_few_milliseconds_apart_share_one_snapshot(
    venue: VenueThread,
) -> None:
    user = eth_account.Account.create().address.lower()

    async def asking() -> tuple[int, list[str]]:
        budget = RateBudget(weight_per_minute=600)
        rest = RestClient(venue.url, budget, timeout_s=5.0)
        await rest.open()
        try:
            queries = AccountQueries(rest, user=user, now_ns=time.time_ns)

            async def ask(coin: str, after_s: float) -> str:
                await asyncio.sleep(after_s)  # its order manager's thread got there later
                snapshot = await queries.fresh_snapshot(coin)
                assert snapshot is not None
                return snapshot.open_orders.coin

            answered = await asyncio.gather(ask("BTC", 0), ask("ETH", 0.002), ask("DOGE", 0.004))
        finally:
            await rest.close()
        return budget.weight_spent, list(answered)

    spent, answered = asyncio.run(asking())

    assert answered == ["BTC", "ETH", "DOGE"]
    # Before: the first question left after one loop step, and the others paid their own.
    assert spent == LISTING_AND_POSITION, f"{spent // LISTING_AND_POSITION} snapshots"
