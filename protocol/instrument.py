"""The tradable instrument and Hyperliquid's price and size rules.

One rounding code path serves sim, paper and live: every price or size that reaches
a venue passes through :class:`Instrument`. Prices carry at most five significant
figures and at most ``max_decimals - sz_decimals`` decimals (integer prices are always
valid); sizes are multiples of ``10**-sz_decimals``; a price may not be more than 80 %
away from the reference price (the mark); an order's notional must reach ``min_notional``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from makerd.protocol.side import Side

PERP_MAX_DECIMALS = 6
MAX_SIGNIFICANT_FIGURES = 5
MAX_DISTANCE_FROM_REFERENCE = Decimal("0.8")
"""The exchange refuses a limit price further than this share of the reference price."""


_STEPS = tuple(Decimal(1).scaleb(-decimals) for decimals in range(24))
"""``10**-n`` for the decimals a tick or lot can have: built once, read on every quote."""


def _step(decimals: int) -> Decimal:
    return _STEPS[decimals] if 0 <= decimals < len(_STEPS) else Decimal(1).scaleb(-decimals)


class OrderRuleError(ValueError):
    """An order that the exchange would reject for its tick, lot or notional rules."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """A perpetual as the venue's ``meta`` describes it."""

    coin: str
    asset_id: int
    sz_decimals: int
    max_decimals: int = PERP_MAX_DECIMALS
    min_notional: Decimal = Decimal(10)
    max_leverage: int = 50

    @property
    def lot(self) -> Decimal:
        """The size step, ``10**-sz_decimals``."""
        return _step(self.sz_decimals)

    def price_decimals(self, price: Decimal) -> int:
        """How many decimals a price of this magnitude may carry."""
        if price <= 0:
            return self.max_decimals - self.sz_decimals
        sig_fig_decimals = MAX_SIGNIFICANT_FIGURES - 1 - price.adjusted()
        return max(0, min(self.max_decimals - self.sz_decimals, sig_fig_decimals))

    def tick_at(self, price: Decimal) -> Decimal:
        """The price step at ``price`` (it grows with the price's magnitude)."""
        return _step(self.price_decimals(price))

    def round_price(self, price: Decimal, side: Side) -> Decimal:
        """Round a quote price passively: bids down, asks up, onto a legal price."""
        if price <= 0:
            raise OrderRuleError("price", f"{self.coin} price {price} is not positive")
        rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
        rounded = price.quantize(self.tick_at(price), rounding=rounding)
        # Rounding up can add a digit (9999.95 -> 10000.0); re-round at the new magnitude
        # (the tick depends on the magnitude alone: at the same one, nothing would change).
        if rounded.adjusted() != price.adjusted():
            rounded = rounded.quantize(self.tick_at(rounded), rounding=rounding)
        if rounded <= 0:
            raise OrderRuleError("tick", f"{self.coin} price {price} is below the smallest tick")
        integral = rounded.to_integral_value()
        return integral if rounded == integral else rounded

    def round_size(self, size: Decimal) -> Decimal:
        """Round a size down to the lot; may return zero (callers must check)."""
        if size <= 0:
            return Decimal(0)
        return size.quantize(self.lot, rounding=ROUND_DOWN)

    def is_valid_price(self, price: Decimal) -> bool:
        if price <= 0:
            return False
        if price == price.to_integral_value():
            return True
        return price == price.quantize(self.tick_at(price), rounding=ROUND_DOWN)

    def is_valid_size(self, size: Decimal) -> bool:
        return size > 0 and size == size.quantize(self.lot, rounding=ROUND_DOWN)

    def check_order(
        self,
        price: Decimal,
        size: Decimal,
        *,
        reduce_only: bool = False,
        reference: Decimal | None = None,
    ) -> None:
        """Raise :class:`OrderRuleError` if the venue would reject this order, checking in
        the venue's order; the price band only when the ``reference`` price is known."""
        if not self.is_valid_price(price):
            raise OrderRuleError("tick", f"{self.coin} price {price} is not on a tick")
        if size <= 0:
            raise OrderRuleError("size_zero", f"{self.coin} size {size} is not positive")
        if not self.is_valid_size(size):
            raise OrderRuleError("lot", f"{self.coin} size {size} is not a multiple of {self.lot}")
        band = MAX_DISTANCE_FROM_REFERENCE
        if reference is not None and abs(price - reference) > reference * band:
            raise OrderRuleError(
                "price_band",
                f"{self.coin} price {price} is more than {band * 100:f}% away from the "
                f"reference price {reference}",
            )
        if not reduce_only and price * size < self.min_notional:
            raise OrderRuleError(
                "min_notional",
                f"{self.coin} notional {price * size} is below the minimum {self.min_notional}",
            )

    def min_size_at(self, price: Decimal) -> Decimal:
        """The smallest legal size whose notional reaches the minimum at ``price``."""
        raw = self.min_notional / price
        size = raw.quantize(self.lot, rounding=ROUND_CEILING)
        return size if size * price >= self.min_notional else size + self.lot
