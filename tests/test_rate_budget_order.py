"""The request budget serves its waiting callers in order of arrival within a priority."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from makerd.venues.hyperliquid.rate_budget import Priority, RateBudget

_PER_MINUTE = 1200  # 20 weight a second; the query reserve is 120

Ask = Callable[[RateBudget], Awaitable[None]]


def acquire(weight: int, priority: Priority = Priority.QUERY) -> Ask:
    async def ask(budget: RateBudget) -> None:
        await budget.acquire(weight, priority=priority)

    return ask


def wait_then_acquire(weight: int) -> Ask:
    """The stop's sweep: wait for a listing's turn, then send it."""

    async def ask(budget: RateBudget) -> None:
        await budget.wait_for(weight, priority=Priority.QUERY)
        await budget.acquire(weight, priority=Priority.QUERY)

    return ask


def served_order(asks: list[tuple[str, Ask]], *, give_up: str | None = None) -> list[str]:
    """Start each ask 50 ms after the one before, on a budget down to its query reserve;
    the names of those served, in the order they were."""

    async def scenario() -> list[str]:
        budget = RateBudget(weight_per_minute=_PER_MINUTE)
        budget.try_spend(_PER_MINUTE - _PER_MINUTE // 10, priority=Priority.CANCEL)
        served: list[str] = []

        async def run(name: str, ask: Ask) -> None:
            await ask(budget)
            served.append(name)

        tasks: dict[str, asyncio.Task[None]] = {}
        for name, ask in asks:
            tasks[name] = asyncio.create_task(run(name, ask))
            await asyncio.sleep(0.05)
        if give_up is not None:
            tasks.pop(give_up).cancel()
        await asyncio.wait_for(asyncio.gather(*tasks.values()), timeout=5)
        return served

    return asyncio.run(scenario())


def test_a_light_query_asked_later_does_not_overtake_a_waiting_listing() -> None:
    # On a tight budget the 2-weight reads asked after a 20-weight listing used to go first,
    # again and again, and the listing (the account's open orders) waited for tens of seconds.
    asks = [("listing", acquire(20))] + [(f"read{i}", acquire(2)) for i in range(3)]
    assert served_order(asks) == ["listing", "read0", "read1", "read2"]


def test_a_wait_for_keeps_its_turn_for_the_acquire_that_follows_it() -> None:
    # A read queued while the sweep waits must not take the sweep's turn, and must not
    # wait forever behind it either.
    asks = [("listing", wait_then_acquire(20)), ("read", acquire(2))]
    assert served_order(asks) == ["listing", "read"]


def test_a_waiter_given_up_hands_its_turn_to_the_next() -> None:
    asks = [("abandoned", acquire(400)), ("read", acquire(2))]
    assert served_order(asks, give_up="abandoned") == ["read"]


def test_cancels_do_not_queue_behind_waiting_queries() -> None:
    asks = [("listing", acquire(20)), ("cancel", acquire(1, Priority.CANCEL))]
    assert served_order(asks) == ["cancel", "listing"]
