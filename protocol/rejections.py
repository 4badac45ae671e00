"""Why the venue (or makerd, before sending) refused an order: a fixed set of reasons."""

from __future__ import annotations

from enum import Enum


class RejectReason(Enum):
    """A fixed set, so it can label metrics; the venue's own text travels alongside."""

    TICK = "tick"
    LOT = "lot"
    MIN_NOTIONAL = "min_notional"
    POST_ONLY_WOULD_CROSS = "post_only_would_cross"
    INSUFFICIENT_MARGIN = "insufficient_margin"
    REDUCE_ONLY = "reduce_only"
    IOC_NO_MATCH = "ioc_no_match"
    RATE_LIMITED = "rate_limited"
    HALTED = "halted"
    STOPPING = "stopping"
    """Refused inside makerd: the trading gate closed (a stop or a kill switch) first."""
    UNKNOWN_ORDER = "unknown_order"
    EXPIRED = "expired"
    """The action reached the exchange after its ``expiresAfter``: it never took effect."""
    OPEN_INTEREST_CAP = "open_interest_cap"
    """The coin's open interest is at the exchange's cap: an order that could grow a
    position is refused until it is lifted (a state of the market, not of the order)."""
    OTHER = "other"
