"""The request budget serves its waiting callers in order of arrival within a priority."""

from __future__ import annotations

import asyncio

from makerd.venues.hyperliquid.rate_budget import Priority, RateBudget

_PER_MINUTE = 1200  # 20 weight a second; the query reserve is 120


def at_query_reserve() -> RateBudget:
    budget = RateBudget(weight_per_minute=_PER_MINUTE)
    budget.try_spend(_PER_MINUTE - _PER_MINUTE // 10, priority=Priority.CANCEL)
    return budget


def test_a_light_query_asked_later_does_not_overtake_a_waiting_listing() -> None:
    # On a tight budget the 2-weight reads asked after a 20-weight listing used to go first,
    # again and again, and the listing (the account's open orders) waited for tens of seconds.
    async def scenario() -> list[str]:
        budget = at_query_reserve()
        served: list[str] = []

        async def ask(name: str, weight: int) -> None:
            await budget.acquire(weight, priority=Priority.QUERY)
            served.append(name)

        listing = asyncio.create_task(ask("listing", 20))
        await asyncio.sleep(0.05)
        await asyncio.gather(listing, *(ask(f"read{i}", 2) for i in range(3)))
        return served

    assert asyncio.run(scenario()) == ["listing", "read0", "read1", "read2"]


def test_a_wait_for_keeps_its_turn_for_the_acquire_that_follows_it() -> None:
    # The stop's sweep waits for a listing's turn, then sends it: a read queued meanwhile
    # must not take that turn, and must not wait forever behind it either.
    async def scenario() -> list[str]:
        budget = at_query_reserve()
        served: list[str] = []

        async def sweep() -> None:
            await budget.wait_for(20, priority=Priority.QUERY)
            await budget.acquire(20, priority=Priority.QUERY)
            served.append("listing")

        async def read() -> None:
            await budget.acquire(2, priority=Priority.QUERY)
            served.append("read")

        first = asyncio.create_task(sweep())
        await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(first, read()), timeout=5)
        return served

    assert asyncio.run(scenario()) == ["listing", "read"]


def test_a_waiter_given_up_hands_its_turn_to_the_next() -> None:
    async def scenario() -> list[str]:
        budget = at_query_reserve()
        served: list[str] = []

        async def ask(name: str, weight: int) -> None:
            await budget.acquire(weight, priority=Priority.QUERY)
            served.append(name)

        abandoned = asyncio.create_task(ask("abandoned", 400))
        await asyncio.sleep(0.05)
        read = asyncio.create_task(ask("read", 2))
        await asyncio.sleep(0.05)
        abandoned.cancel()
        await asyncio.wait_for(read, timeout=1)
        return served

    assert asyncio.run(scenario()) == ["read"]


def test_cancels_do_not_queue_behind_waiting_queries() -> None:
    async def scenario() -> list[str]:
        budget = at_query_reserve()
        served: list[str] = []

        async def ask(name: str, weight: int, priority: Priority) -> None:
            await budget.acquire(weight, priority=priority)
            served.append(name)

        listing = asyncio.create_task(ask("listing", 20, Priority.QUERY))
        await asyncio.sleep(0.05)
        await asyncio.gather(listing, ask("cancel", 1, Priority.CANCEL))
        return served

    assert asyncio.run(scenario()) == ["cancel", "listing"]
