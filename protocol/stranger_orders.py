"""An order resting on one of this run's coins that is none of this run's orders."""

from __future__ import annotations

from dataclasses import dataclass

from makerd.protocol.orders import OrderStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class StrangerOrderReported:
    """The user stream reported an order on ``coin`` that is none of this run's: placed by
    hand on the same account (no cloid, or one not minted by this run), or one of ours
    that a manual modify brought back after it ended. One reported open may rest: only a
    listing proves what rests, so the order manager asks for one (:mod:`actors.venue_truth`)
    and its orphan rule cancels it. Whatever its status, no answer of ours will ever name
    it, so its fills are booked at once, not held for one (a trader's taker trade)."""

    coin: str
    venue_order_id: int
    status: OrderStatus
    ts_exchange: int
    ts_local: int
