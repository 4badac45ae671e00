"""How late a market block is heard, whatever the offset between the two clocks.

A block's delay, its local receive time minus its exchange time, is the offset between
the host's clock and the exchange's plus the trip. The offset is unknown (hosts are
seconds out) but steady; the trip is not. The smallest delay seen lately is the offset
plus the quickest trip, so a block's delay above that floor is how late the feed is.

A feed that keeps sending blocks whose exchange time moves on, each heard 30 s after it
happened (an exchange or a proxy with a backlog), looks alive by the exchange's time
alone; its books are half a minute old, and quoting on them is being picked off. The
floor is the minimum over a window of ``window_ns``, kept in buckets, so it follows a
change of the offset (an NTP step forward) after at most one window; a longer lag than
the window's is learned as offset too, and the feed looks on time again: the window is
the longest lag this can catch. Pure: local and exchange times come with the blocks.
"""

from __future__ import annotations

from collections import deque

BUCKETS = 10


class FeedLateness:
    def __init__(self, *, window_ns: int) -> None:
        self._bucket_ns = max(1, window_ns // BUCKETS)
        self._minima: deque[tuple[int, int]] = deque()
        """(bucket number by local time, smallest delay heard in it), oldest first."""

    def late_by(self, *, ts_local: int, ts_exchange: int) -> int:
        """Record a block heard at ``ts_local`` and stamped ``ts_exchange``; how much later
        than the quickest block of the window it was heard (0 for the quickest)."""
        delay = ts_local - ts_exchange
        bucket = ts_local // self._bucket_ns
        minima = self._minima
        # A clock stepped back leaves buckets "from the future": they go, as old ones do.
        while minima and not bucket - BUCKETS < minima[0][0] <= bucket:
            minima.popleft()
        while minima and minima[-1][0] > bucket:
            minima.pop()
        if minima and minima[-1][0] == bucket:
            if delay < minima[-1][1]:
                minima[-1] = (bucket, delay)
        else:
            minima.append((bucket, delay))
        return delay - min(smallest for _, smallest in minima)
