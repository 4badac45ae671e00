"""An order resting on one of this run's coins that is none of this run's orders."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class StrangerOrderReported:
    """The user stream reported an order open on ``coin`` that no order of this run rests
    on: placed by hand on the same account (no cloid, or one not minted by this run), or
    one of ours that a manual modify brought back after it ended. Only a listing proves
    what rests, so the order manager asks for one (:mod:`actors.venue_truth`); its orphan
    rule then cancels the stranger."""

    coin: str
    venue_order_id: int
    ts_exchange: int
    ts_local: int
