"""The exchange's open-interest cap: a coin at its cap quotes reduce-only for a while.

While a coin's open interest is at the exchange's cap, the exchange refuses every order
that could grow a position on it ("Order would increase open interest while open interest
is capped"), and takes those that only shrink one. The refusal says nothing wrong with
makerd's orders: it is a state of the market, and it can last hours. Counted as a
rejection storm, five of them in ten seconds tripped the kill switch, which latches and
stops every coin until an operator clears it; retried without end, they would spend the
request budget instead.

So the guardian holds the refused coin reduce-only for ``risk.open_interest_cap_hold_s``
(30 s by default) from the last such refusal: only orders that shrink its position go
out, and the coin's other orders are cancelled, as for any reduce-only limit. When the
hold ends the whole ladder is tried again; a cap still in force refuses it, once, and
holds the coin again. A cap costs one refused action per coin and hold, not the
account's trading.
"""

from __future__ import annotations

from typing import Final

from makerd.protocol.clock import still_waiting

NS_PER_S: Final = 1_000_000_000
CAP_REASON: Final = "the exchange's open-interest cap refused an order that could grow the position"


class OpenInterestCapHold:
    """One coin's hold: from its last open-interest-cap refusal, for ``hold_s`` (read at
    each question, so a reloaded length applies at once)."""

    def __init__(self) -> None:
        self._since_ns: int | None = None

    def holding(self, now_ns: int, hold_s: float) -> bool:
        """Whether the coin is held at ``now_ns`` (a step back of the clock ends a hold:
        the next refusal, if the cap is still there, starts another)."""
        since = self._since_ns
        return since is not None and still_waiting(now_ns, since, round(hold_s * NS_PER_S))

    def refused(self, now_ns: int, hold_s: float) -> bool:
        """An order was refused for the cap at ``now_ns``: hold from then. True when this
        refusal began a hold (one that came while held only moves its start)."""
        began = not self.holding(now_ns, hold_s)
        self._since_ns = now_ns
        return began
