"""Refusals that say the market, not the order, is closed: the coin is held for a while.

Two of the exchange's refusals say nothing wrong with makerd's orders; they are states of
one coin's market, and they can last hours:

- **Its open-interest cap.** While a coin's open interest is at the exchange's cap, every
  order that could grow a position is refused ("Order would increase open interest while
  open interest is capped"); those that only shrink one are taken. The coin is held
  reduce-only for ``risk.open_interest_cap_hold_s`` (30 s by default).
- **A halt.** While the exchange halts trading in a coin ("Trading is halted.", as before
  a delisting), every order of it is refused. The coin is held halted, its orders
  cancelled and none placed, for ``risk.market_halt_hold_s`` (60 s by default).

Counted as a rejection storm, five of either in ten seconds tripped the kill switch, which
latches and stops every coin until an operator clears it; retried without end, they would
spend the request budget instead. Held from the last such refusal, a coin tries its whole
ladder again when the hold ends: a cap or a halt still in force refuses it, once, and holds
the coin again. Either costs one refused action per coin and hold, not the account's
trading.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from makerd.config.model import RiskConfig
from makerd.protocol.clock import still_waiting
from makerd.protocol.orders import ModifyRejected, OrderRejected
from makerd.protocol.rejections import RejectReason
from makerd.protocol.risk import RiskLimit, TradingState

log = logging.getLogger("makerd.risk")
NS_PER_S: Final = 1_000_000_000
CAP_REASON: Final = "the exchange's open-interest cap refused an order that could grow the position"
HALT_REASON: Final = "the exchange halted trading in the coin (it refused an order as halted)"


class RefusalHold:
    """One coin's hold: from its last refusal of one kind, for ``hold_s`` (read at each
    question, so a reloaded length applies at once)."""

    def __init__(self) -> None:
        self._since_ns: int | None = None

    def holding(self, now_ns: int, hold_s: float) -> bool:
        """Whether the coin is held at ``now_ns`` (a step back of the clock ends a hold:
        the next refusal, if the market is still closed, starts another)."""
        since = self._since_ns
        return since is not None and still_waiting(now_ns, since, round(hold_s * NS_PER_S))

    def refused(self, now_ns: int, hold_s: float) -> bool:
        """An order was refused at ``now_ns``: hold from then. True when this refusal began
        a hold (one that came while held only moves its start)."""
        began = not self.holding(now_ns, hold_s)
        self._since_ns = now_ns
        return began


@dataclass(frozen=True, slots=True)
class Held:
    """What a hold in force asks of its coin."""

    state: TradingState
    limit: RiskLimit
    reason: str


class MarketHolds:
    """One coin's (or, for a refusal that names none, every coin's) two holds."""

    def __init__(self) -> None:
        self._cap = RefusalHold()
        self._halt = RefusalHold()

    def refused(self, rejected: OrderRejected | ModifyRejected, config: RiskConfig) -> bool:
        """Hold the coin if ``rejected`` (a placement's, or a modify's new order's) says its
        market is closed; whether it did (such a refusal is never one of a rejection storm).
        A hold that begins is logged once."""
        if rejected.reason is RejectReason.OPEN_INTEREST_CAP:
            hold, hold_s, event = self._cap, config.open_interest_cap_hold_s, "open_interest_capped"
        elif rejected.reason is RejectReason.HALTED:
            hold, hold_s, event = self._halt, config.market_halt_hold_s, "market_halted"
        else:
            return False
        if hold.refused(rejected.ts_local, hold_s):
            coin = rejected.coin or "-"
            detail = rejected.message
            log.warning("event=%s coin=%s hold_s=%g detail=%r", event, coin, hold_s, detail)
        return True

    def held(self, now_ns: int, config: RiskConfig) -> Held | None:
        """The hold in force at ``now_ns``: a halt before a cap, as it asks more."""
        if self._halt.holding(now_ns, config.market_halt_hold_s):
            return Held(TradingState.HALTED, RiskLimit.MARKET_HALT, HALT_REASON)
        if self._cap.holding(now_ns, config.open_interest_cap_hold_s):
            return Held(TradingState.REDUCE_ONLY, RiskLimit.OPEN_INTEREST_CAP, CAP_REASON)
        return None
