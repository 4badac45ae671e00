"""The venue's I/O thread: one uvloop event loop that owns every socket and task.

Actors live on pykka threads and must never wait on the network, so they hand work to
the loop with :meth:`IoLoop.call_soon` (``call_soon_threadsafe`` underneath) and get
answers back as events through the sink. Only :meth:`IoLoop.run` blocks, and it is
meant for the wiring thread (start-up and shutdown), never for an actor or the loop.

Once a stop has cancelled the tasks, the loop takes no new work: a command still queued
for it, or handed to it after the loop has closed, is refused as "venue stopped" (one
INFO line, nothing sent), never a task that fails on the closed HTTP session.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import uvloop

log = logging.getLogger("makerd.venue.io")
_T = TypeVar("_T")
_DRAIN_TIMEOUT_S = 2.0


class VenueStoppedError(Exception):
    """The venue's I/O has stopped: the request was refused here and never sent."""


class IoLoop:
    """A uvloop event loop running on its own daemon thread."""

    def __init__(self, name: str = "venue-io") -> None:
        self._loop = uvloop.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        """Set once the tasks are cancelled for a stop: no new task may start after."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        """True between start and stop (a venue stopped before it started has no loop)."""
        return self._thread.is_alive()

    def in_loop_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def call_soon(self, callback: Callable[..., object], *args: object, name: str) -> None:
        """Run ``callback(*args)`` on the loop thread; returns at once, from any thread.

        After the loop has closed, ``name`` is refused as "venue stopped" (an actor's late
        command must not crash the actor with the loop's RuntimeError).
        """
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:
            if not self._loop.is_closed():
                raise
            _refused(name)

    def spawn(self, coroutine: Coroutine[Any, Any, object], *, name: str) -> None:
        """Start a task on the loop (from the loop thread); failures are logged, not lost.

        Once a stop has cancelled the tasks, the coroutine is refused, never run.
        """
        if self._stopping:
            coroutine.close()  # never started: no "was never awaited" warning either
            _refused(name)
            return
        task = self._loop.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def run(self, coroutine: Coroutine[Any, Any, _T], *, timeout_s: float) -> _T:
        """Run a coroutine on the loop and wait for it: for the wiring thread only."""
        if self.in_loop_thread():
            raise RuntimeError("IoLoop.run called from the loop thread would deadlock")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout_s)

    def stop(self, *, timeout_s: float = 5.0) -> None:
        """Cancel every task, stop the loop and join the thread."""
        if not self._thread.is_alive():
            return
        try:
            self.run(self._cancel_tasks(), timeout_s=timeout_s)
        except TimeoutError:
            log.warning("event=io_loop_stop_slow timeout_s=%.1f", timeout_s)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout_s)

    def cancel_tasks(self) -> list[asyncio.Task[Any]]:
        """Cancel every task :meth:`spawn` started (on the loop thread); those not yet done.

        Each resumes only to unwind (its next step raises CancelledError); one that had not
        started yet never runs. From now on :meth:`spawn` refuses new tasks: the stop is
        under way, and what they would send could only meet a closed session.
        """
        self._stopping = True
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        return tasks

    async def _cancel_tasks(self) -> None:
        await asyncio.gather(*self.cancel_tasks(), return_exceptions=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._drain()
            self._loop.close()

    def _drain(self) -> None:
        """Finish every task still on the loop (sockets' own ones too) before closing it.

        A task destroyed while pending leaves a coroutine that complains at garbage
        collection, long after the venue is gone; cancelling and awaiting them here does not.
        """
        pending = [task for task in asyncio.all_tasks(self._loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.wait(pending, timeout=_DRAIN_TIMEOUT_S))
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, VenueStoppedError):
            _refused(task.get_name())
        elif error is not None:
            log.error("event=venue_task_failed task=%s error=%r", task.get_name(), error)


def _refused(name: str) -> None:
    log.info("event=venue_work_refused work=%s reason=venue_stopped", name)
