"""Run the local venue on its own event loop in a background thread (tests, embedding)."""

from __future__ import annotations

import asyncio
import threading

from makerd.venues.hl_local.server import LocalVenue, VenueConfig


class VenueThread:
    """A :class:`LocalVenue` served from a daemon thread; ``start`` returns its URL."""

    def __init__(self, config: VenueConfig) -> None:
        self.venue = LocalVenue(config)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop_requested: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="hl-local-venue", daemon=True)

    @property
    def url(self) -> str:
        return self.venue.url

    def start(self, timeout_s: float = 10.0) -> str:
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError(f"local venue did not start within {timeout_s}s")
        if self._failure is not None:
            raise RuntimeError("local venue failed to start") from self._failure
        return self.venue.url

    def stop(self, timeout_s: float = 10.0) -> None:
        if not self._thread.is_alive():
            return
        stop_requested = self._stop_requested
        if stop_requested is not None:
            self._loop.call_soon_threadsafe(stop_requested.set)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop_requested = asyncio.Event()
        try:
            await self.venue.start()
        except OSError as error:
            self._failure = error
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop_requested.wait()
        finally:
            await self.venue.stop()
