"""What the venue learns about the exchange's rate limits that the order manager acts on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitLifted:
    """The exchange accepted an action sent after its rate limit began: the limit is over,
    and the request budget's backoff with it, so new risk may go out again now.

    A refusal's stated wait (``OrderRejected.retry_after_ns``) is when the backoff would
    have ended; this ends the pause it set early. Only an action the exchange counts as
    it counts orders is such evidence, never a cancel (cancels have an allowance of their
    own under an address limit)."""

    ts_local: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestBudgetReported:
    """The exchange's per-address request budget (Hyperliquid's ``userRateLimit``)."""

    requests_left: int
    requests_cap: int
    ts_local: int
