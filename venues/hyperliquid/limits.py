"""The bounds every Hyperliquid frame and response must respect, and the state behind them.

:class:`FrameLimits` holds the numbers (each default says why it is what it is);
:class:`FrameGuard` adds what a check needs to know about the session: the coins it
trades, the coins the venue lists, and the last good mid of each coin, which anchors the
price band. Parsers only read a guard; the market feed moves the anchor when a book it
accepted passed every check, so one bad frame can never move the band it is judged by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from makerd.protocol.market import DropReason
from makerd.venues.hyperliquid.errors import FeedParseError

_NS_PER_S: Final = 1_000_000_000
_REANCHOR_AGE_SHARE: Final = 2
"""The band's anchor moves once it is half its lifetime old (so it never lapses while good
books arrive) ..."""
_REANCHOR_DRIFT_SHARE: Final = 10
"""... or once the market is a tenth of the band away from it (see
:meth:`FrameGuard.anchor_due`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameLimits:
    """Validation bounds for venue input (config keys under ``feed.``)."""

    price_band_pct: Decimal = Decimal(10)
    """Prices must lie within this percentage of the last good mid. Books arrive about
    twice a second, and the anchor moves once it is half ``band_reanchor_s`` old or a
    tenth of the band off the market (5 s, 1 % by default); a major
    perpetual moving 10 % between two books is a market the quoter should leave anyway
    (the feed goes stale and quotes come down), while a price from another coin or a
    mangled digit string is refused."""
    band_reanchor_s: float = 10.0
    """With no good book for this long the band has no anchor and the next well-formed
    book sets it: a real move beyond the band during an outage must not lock the feed
    out for good."""
    max_clock_skew_s: float = 5.0
    """Exchange times may be at most this far ahead of the local clock. NTP keeps hosts
    within milliseconds; 5 s tolerates a drifting laptop, and a frame stamped a day (or
    10^30 ms) ahead can no longer make every real book after it look out of order."""
    max_decimal_chars: int = 32
    """Longest decimal string accepted. Hyperliquid prices have at most 5 significant
    figures and 6 decimals, sizes at most 8 decimals; 32 characters leave room, and a
    400-digit or million-character "price" is refused before it is parsed."""
    max_frame_bytes: int = 16 * 1024 * 1024
    """Largest WebSocket message read (the client closes the connection beyond it). A
    ``userFills`` snapshot of 2000 fills is well under 1 MiB."""
    max_json_depth: int = 16
    """Deepest JSON nesting accepted; real frames nest 5 levels. Deeper input would only
    cost recursion in the decoder, so it is refused as ``too_deep``."""
    max_book_levels: int = 100
    """Most levels a book side may have: the exchange sends 20."""

    def __post_init__(self) -> None:
        problems = []
        if not (self.price_band_pct.is_finite() and 0 < self.price_band_pct < 100):
            problems.append("price_band_pct must be above 0 and below 100")
        for name in ("band_reanchor_s", "max_clock_skew_s"):
            value = getattr(self, name)
            if not (0 < value < 86_400):
                problems.append(f"{name} must be above 0 and below a day")
        for name in ("max_decimal_chars", "max_frame_bytes", "max_json_depth", "max_book_levels"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1")
        if problems:
            raise ValueError("; ".join(problems))


class FrameGuard:
    """What a parser checks a frame against: the limits, the coins, the band's anchor.

    ``coins`` is what the session trades (``None``: any coin, for REST answers that list
    the whole account); ``listed`` what the venue lists, which only names the reason
    (``unknown_coin`` rather than ``wrong_coin``).
    """

    def __init__(
        self,
        *,
        limits: FrameLimits | None = None,
        coins: Iterable[str] | None = None,
        listed: Iterable[str] | None = None,
    ) -> None:
        self.limits = limits or FrameLimits()
        self.coins = None if coins is None else frozenset(coins)
        self.listed = None if listed is None else frozenset(listed)
        self._band = self.limits.price_band_pct / 100
        self._skew_ns = int(self.limits.max_clock_skew_s * _NS_PER_S)
        self._reanchor_ns = int(self.limits.band_reanchor_s * _NS_PER_S)
        self._anchors: dict[str, tuple[Decimal, int]] = {}

    def check_coin(self, coin: str, channel: str) -> None:
        if self.coins is None or coin in self.coins:
            return
        if self.listed is not None and coin not in self.listed:
            raise FeedParseError(
                channel, f"coin {coin[:20]!r} is not listed", DropReason.UNKNOWN_COIN
            )
        raise FeedParseError(
            channel, f"coin {coin[:20]!r} is not traded here", DropReason.WRONG_COIN
        )

    def check_time(self, ts_exchange: int, ts_local: int, channel: str) -> None:
        if ts_exchange <= 0:
            raise FeedParseError(channel, "time is not positive", DropReason.BAD_TIME)
        if ts_exchange - ts_local > self._skew_ns:
            raise FeedParseError(
                channel,
                f"time is {(ts_exchange - ts_local) / _NS_PER_S:.3g} s ahead of the local clock",
                DropReason.FUTURE_TIME,
            )

    def mid(self, coin: str, ts_local: int) -> Decimal | None:
        """The anchor of ``coin``'s band, or None when it has none (or it is too old)."""
        anchor = self._anchors.get(coin)
        if anchor is None or ts_local - anchor[1] > self._reanchor_ns:
            return None
        return anchor[0]

    def check_band(self, coin: str, prices: Iterable[Decimal], ts_local: int, channel: str) -> None:
        mid = self.mid(coin, ts_local)
        if mid is None:
            return
        low, high = mid * (1 - self._band), mid * (1 + self._band)
        # Forty prices a book: the common case (all inside) in two passes in C.
        prices = tuple(prices)
        if not prices or (low <= min(prices) and max(prices) <= high):
            return
        for price in prices:
            if not low <= price <= high:
                raise FeedParseError(
                    channel,
                    f"price {price} is outside {self.limits.price_band_pct}% of the mid {mid}",
                    DropReason.OUT_OF_BAND,
                )

    def anchor_due(self, coin: str, mid: Decimal, ts_local: int) -> bool:
        """Whether a good book at ``mid`` should move the band: the anchor is missing,
        half its lifetime old, or a tenth of the band away from ``mid``.

        So the band sits at most a tenth of its width from where moving it on every book
        would put it, and refuses the same garbage; meanwhile only about one book in ten
        pays for the full order check a move needs.
        """
        anchor = self._anchors.get(coin)
        if anchor is None or ts_local - anchor[1] > self._reanchor_ns // _REANCHOR_AGE_SHARE:
            return True
        return abs(mid - anchor[0]) > anchor[0] * self._band / _REANCHOR_DRIFT_SHARE

    def anchor(self, coin: str, mid: Decimal, ts_local: int) -> None:
        """A book that passed every check moves the band of its coin."""
        self._anchors[coin] = (mid, ts_local)


OPEN_GUARD: Final = FrameGuard()
"""Checks values and times only: any coin, no band (REST answers, tests)."""
