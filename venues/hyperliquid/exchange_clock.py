"""The exchange's clock as this host reads it, for the times the exchange judges by it.

``expiresAfter`` and ``scheduleCancel`` are exchange times: the exchange compares them
with its own clock. Written from the host's clock, a host 3 s ahead of the exchange gave
an action whose answer was lost 3 s more to come to rest than makerd allowed it, and a
host 4 s behind had every placement refused as expired and a 10 s dead-man switch fire
after 6 s. The exchange says what time it is in every book and account answer; the
offset is the median of the last few differences between that time and when the answer
was heard here. Hearing comes after stamping, so the estimate errs towards the exchange
time being earlier than it is: an action expires sooner, a dead-man switch fires sooner
than asked, never later. The median keeps one odd stamp from moving it, and a step of
the host's clock (NTP) is followed within a few books.
"""

from __future__ import annotations

import statistics
from collections import deque
from typing import Final

from makerd.protocol.account import PositionReported
from makerd.protocol.market import BookSnapshotReceived

_SAMPLES: Final = 9
"""About four seconds of books (two a second): how soon a clock step is followed."""


class ExchangeClock:
    """Host times translated to the exchange's clock; fed the exchange's own stamps."""

    def __init__(self) -> None:
        self._differences: deque[int] = deque(maxlen=_SAMPLES)
        self._offset_ns = 0
        self._last: tuple[int, int] | None = None

    @property
    def offset_ns(self) -> int:
        """How far the exchange's clock reads ahead of this host's (0 until it has said)."""
        return self._offset_ns

    def observe(self, stamped: BookSnapshotReceived | PositionReported) -> None:
        """A book or an account answer: stamped there (``ts_exchange``), heard here
        (``ts_local``). The same answer told twice counts once."""
        ts_exchange, ts_local = stamped.ts_exchange, stamped.ts_local
        if (ts_exchange, ts_local) == self._last:
            return
        self._last = (ts_exchange, ts_local)
        self._differences.append(ts_exchange - ts_local)
        self._offset_ns = int(statistics.median_low(self._differences))

    def exchange_ns(self, local_ns: int) -> int:
        """The exchange's time at the host's ``local_ns``."""
        return local_ns + self._offset_ns
