"""The paper account's margin, as a cross-margin exchange would report it.

The paper venue models one account: it starts at ``paper.account_value_usd``, gains the
PnL its fills realize less their fees, and marks the open position to the book's mid.
Margin used is that position's notional at the mid over ``paper.leverage``; open orders
use none (the exchange reserves margin for them, but makerd's limit is on positions).
"""

from __future__ import annotations

from decimal import Decimal

from makerd.config.model import PaperConfig
from makerd.protocol.risk import MarginReported
from makerd.venues.paper.position import PaperPosition


def paper_margin(
    *,
    position: PaperPosition,
    fees_paid: Decimal,
    mid: Decimal | None,
    config: PaperConfig,
    at_ns: int,
    delivered_ns: int,
) -> MarginReported:
    """The margin the modelled account uses at ``mid`` (the entry price before any book)."""
    mark = position.average_entry if mid is None else mid
    unrealized = position.size * (mark - position.average_entry)
    value = config.account_value_usd + position.realized - fees_paid + unrealized
    return MarginReported(
        account_value=value,
        margin_used=abs(position.size) * mark / config.leverage,
        ts_exchange=at_ns,
        ts_local=delivered_ns,
    )
