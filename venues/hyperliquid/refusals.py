"""The gateway's own refusals, worded as the venue's would be: an order it will not send
is answered like one the venue refused, with a reason the order manager acts on."""

from __future__ import annotations

from typing import Final

from makerd.protocol.instrument import OrderRuleError
from makerd.protocol.rejections import RejectReason
from makerd.venues.hyperliquid.errors import VenueError

_RULE_REASONS: Final = {
    "tick": RejectReason.TICK,
    "lot": RejectReason.LOT,
    "size_zero": RejectReason.LOT,
    "min_notional": RejectReason.MIN_NOTIONAL,
    "reduce_only": RejectReason.REDUCE_ONLY,
}


def broken_rule(error: OrderRuleError) -> VenueError:
    """An order the exchange's tick, lot or notional rules would refuse."""
    return VenueError(
        reason=_RULE_REASONS.get(error.reason, RejectReason.OTHER), message=str(error)
    )


def gate_closed() -> VenueError:
    return VenueError(reason=RejectReason.STOPPING, message="trading gate closed: stopping")


def coin_halted(coin: str) -> VenueError:
    return VenueError(
        reason=RejectReason.STOPPING, message=f"{coin} halted: its supervisor gave up"
    )
