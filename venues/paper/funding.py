"""Funding on a simulated position, as Hyperliquid books it.

A perpetual's position pays or receives funding at each funding time (hourly on
Hyperliquid): position × oracle price × rate, paid by longs when the rate is positive,
in USDC (6 decimals). Sim mode charges a constant rate on the synthetic mid; paper mode
the real market's current rate on its mark.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from makerd.protocol.account import FundingPaid, funding_key

NS_PER_MS = 1_000_000
USDC_UNIT = Decimal("0.000001")


class FundingSchedule:
    """The funding times (whole multiples of the interval) as time passes them."""

    def __init__(self, *, interval_ns: int, start_ns: int) -> None:
        self._interval_ns = interval_ns
        self._next_ns = (start_ns // interval_ns + 1) * interval_ns

    def due(self, now_ns: int) -> list[int]:
        """The funding times passed since the last call, oldest first."""
        times = []
        while self._next_ns <= now_ns:
            times.append(self._next_ns)
            self._next_ns += self._interval_ns
        return times


def funding_payment(
    *, coin: str, position: Decimal, mark: Decimal, rate: Decimal, time_ns: int, ts_local: int
) -> FundingPaid | None:
    """What ``position`` receives at ``time_ns`` (negative: pays); None when flat."""
    if position == 0:
        return None
    amount = (-position * mark * rate).quantize(USDC_UNIT, rounding=ROUND_HALF_EVEN)
    return FundingPaid(
        coin=coin,
        amount=amount,
        rate=rate,
        position=position,
        key=funding_key(coin, time_ns // NS_PER_MS),
        ts_exchange=time_ns,
        ts_local=ts_local,
    )
