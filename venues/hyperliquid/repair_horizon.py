"""Since when a repair of the user stream asks the exchange for fills, on its clock.

A repair asks for the fills since the newest one heard, and never from before this run
began. The run's start used to be the host's time at start: on a host a minute ahead of
the exchange, a reconnect in the run's first minute asked for the fills since a minute
after the start, the exchange had none, and a fill made while the stream was down was
never booked. The start is now kept on the monotonic clock and read on the exchange's
clock when a repair asks (the exchange's time now, less the time run since), so neither
the host's offset nor a step of its clock moves it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

_NS_PER_MS: Final = 1_000_000
_SLACK_MS: Final = 2_000
"""Asked from this much before the start: the exchange's time is read from its stamps on
books heard here, and a fill asked for twice is booked once."""


class RepairHorizon:
    """The newest fill heard and the run's start, both on the exchange's clock."""

    def __init__(
        self, *, exchange_now_ns: Callable[[], int], monotonic_ns: Callable[[], int]
    ) -> None:
        self._exchange_now_ns = exchange_now_ns
        self._monotonic_ns = monotonic_ns
        self._started_mono_ns = monotonic_ns()
        self._newest_fill_ms: int | None = None

    def heard(self, fill_exchange_ns: int) -> None:
        """A fill the stream (or a repair) brought, stamped ``fill_exchange_ns`` there."""
        ms = fill_exchange_ns // _NS_PER_MS
        newest = self._newest_fill_ms
        self._newest_fill_ms = ms if newest is None else max(newest, ms)

    def since_ms(self) -> int:
        """The exchange time (ms) a repair asks for fills from."""
        ran_ns = self._monotonic_ns() - self._started_mono_ns
        started_ms = (self._exchange_now_ns() - ran_ns) // _NS_PER_MS - _SLACK_MS
        newest = self._newest_fill_ms
        return started_ms if newest is None else max(newest, started_ms)
