"""Position, average entry, realized PnL, fees and funding (average-cost method).

Equity is realized + unrealized − fees + funding, from booked fills and funding payments
only.
"""

from __future__ import annotations

from decimal import Decimal

from makerd.protocol.account import OrderFilled

ZERO = Decimal(0)


class Ledger:
    def __init__(self) -> None:
        self.position = ZERO
        self.average_entry = ZERO
        self.realized_pnl = ZERO
        self.fees_paid = ZERO
        self.funding = ZERO

    def apply(self, fill: OrderFilled) -> Decimal:
        """Book one fill; return the PnL it realized (zero when it only adds)."""
        signed = fill.size * fill.side.sign
        self.fees_paid += fill.fee
        if self.position == 0 or (self.position > 0) == (signed > 0):
            total = abs(self.position) + fill.size
            self.average_entry = (
                self.average_entry * abs(self.position) + fill.price * fill.size
            ) / total
            self.position += signed
            return ZERO
        closed = min(abs(self.position), fill.size)
        direction = 1 if self.position > 0 else -1
        realized = closed * (fill.price - self.average_entry) * direction
        self.realized_pnl += realized
        self.position += signed
        if self.position == 0:
            self.average_entry = ZERO
        elif (self.position > 0) != (direction > 0):
            # The fill flipped the position: what is left was opened at this fill's price.
            self.average_entry = fill.price
        return realized

    def apply_funding(self, amount: Decimal) -> None:
        """Book one funding payment received (negative: paid)."""
        self.funding += amount

    def total_at(self, mark: Decimal) -> Decimal:
        """Equity change booked so far, the open position valued at ``mark``."""
        return self.realized_pnl + self.unrealized_at(mark) - self.fees_paid + self.funding

    def unrealized_at(self, mark: Decimal) -> Decimal:
        if self.position == 0 or mark <= 0:
            return ZERO
        return (mark - self.average_entry) * self.position
