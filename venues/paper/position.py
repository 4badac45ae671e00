"""The paper venue's position and average entry, as the exchange itself would report them."""

from __future__ import annotations

from decimal import Decimal

from makerd.protocol.side import Side

ZERO = Decimal(0)


class PaperPosition:
    """Signed position, the average entry price of what is open, and the PnL realized."""

    def __init__(self) -> None:
        self.size = ZERO
        self.average_entry = ZERO
        self.realized = ZERO

    def reducible_by(self, side: Side) -> Decimal:
        """How much an order on ``side`` can trade without increasing the position."""
        if self.size * side.sign < 0:
            return abs(self.size)
        return ZERO

    def apply(self, side: Side, price: Decimal, size: Decimal) -> None:
        """Book one fill: increases average in, reductions keep the entry, flips restart it."""
        signed = side.sign * size
        after = self.size + signed
        if self.size * signed < 0:
            closed = min(size, abs(self.size))
            self.realized += closed * (price - self.average_entry) * (1 if self.size > 0 else -1)
        if self.size == 0 or self.size * signed > 0:
            self.average_entry = (self.average_entry * abs(self.size) + price * size) / abs(after)
        elif after == 0:
            self.average_entry = ZERO
        elif after * self.size < 0:
            self.average_entry = price
        self.size = after
