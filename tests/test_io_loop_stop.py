"""Work that reaches the venue's I/O loop after a stop began is refused as "venue stopped":
nothing is sent, and nothing is logged as a failed task.

A real IoLoop (uvloop on its own thread) and a real RestClient (aiohttp); the request
that must not be sent points at a loopback port where nothing listens, so one that went
out anyway would fail as a lost request instead of being refused.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from makerd.venues.hyperliquid.io_loop import IoLoop, VenueStoppedError
from makerd.venues.hyperliquid.rate_budget import RateBudget
from makerd.venues.hyperliquid.rest import RestClient


def _nothing_listens() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def io() -> Iterator[IoLoop]:
    loop = IoLoop(name="test-io")
    loop.start()
    yield loop
    loop.stop()


async def _next_turns() -> None:
    """Let every callback already queued on this loop run (the loop is first in, first out)."""
    for _ in range(3):
        await asyncio.sleep(0)


def _failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_task_that_wakes_after_the_session_closed_is_refused_not_failed(
    io: IoLoop, caplog: pytest.LogCaptureFixture
) -> None:
    rest = RestClient(_nothing_listens(), RateBudget(weight_per_minute=1200))
    wake, ended = asyncio.Event(), asyncio.Event()
    outcome: list[BaseException] = []

    async def sweep_after_its_backoff() -> None:
        await wake.wait()  # asleep in its backoff while the stop closes the session
        try:
            await rest.info({"type": "openOrders", "user": "0x0"})
        except BaseException as error:
            outcome.append(error)
            raise
        finally:
            ended.set()

    async def stop_with_the_sweep_waking_before_its_cancel() -> None:
        await rest.open()
        io.spawn(sweep_after_its_backoff(), name="sweep")
        await asyncio.sleep(0)  # the sweep starts and waits
        await rest.close()
        wake.set()
        await ended.wait()
        await _next_turns()  # the task's done callback, queued as it ended, has run

    with caplog.at_level(logging.INFO, logger="makerd.venue.io"):
        io.run(stop_with_the_sweep_waking_before_its_cancel(), timeout_s=10)

    assert [type(error) for error in outcome] == [VenueStoppedError]
    assert _failures(caplog) == []
    assert "event=venue_work_refused work=sweep reason=venue_stopped" in caplog.text


def test_a_command_queued_behind_the_stop_never_runs(
    io: IoLoop, caplog: pytest.LogCaptureFixture
) -> None:
    ran = threading.Event()

    async def late_command() -> None:
        ran.set()

    async def stop_then_take_the_queued_command() -> None:
        io.cancel_tasks()  # the stop's first step, on the loop
        io.spawn(late_command(), name="PlaceOrders")
        await _next_turns()  # a task spawned now would have taken its first step

    with caplog.at_level(logging.INFO, logger="makerd.venue.io"):
        io.run(stop_then_take_the_queued_command(), timeout_s=10)

    assert not ran.is_set(), "a command queued behind the stop still ran"
    assert "event=venue_work_refused work=PlaceOrders reason=venue_stopped" in caplog.text
    assert _failures(caplog) == []


def test_a_command_handed_to_a_closed_loop_is_refused_in_the_callers_thread(
    caplog: pytest.LogCaptureFixture,
) -> None:
    io = IoLoop(name="test-io")
    io.start()
    io.stop()
    ran = threading.Event()

    with caplog.at_level(logging.INFO, logger="makerd.venue.io"):
        io.call_soon(ran.set, name="CancelOrders")  # an actor's tell: must not raise

    assert not ran.is_set()
    assert "event=venue_work_refused work=CancelOrders reason=venue_stopped" in caplog.text
