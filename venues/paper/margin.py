"""The paper account's margin, as a cross-margin exchange reports it and checks orders with it.

The paper venue models one account over every coin's exchange: it starts at
``paper.account_value_usd``, gains the PnL its fills realize less their fees and the
funding its positions receive (less what they pay), and marks each open position to its
book's mid. Margin used is each position's notional at the mid over the leverage.
Placing an order also needs margin, as at the venue: its notional over the leverage, on
top of what the positions and the resting orders (those not reduce-only) already use,
must fit in the account's value, or the order is refused ("Insufficient margin to place
order."). An order that only reduces the position needs none. The leverage is
``paper.leverage``, at most the coin's maximum (the venue refuses more).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from makerd.config.model import PaperConfig
from makerd.protocol.instrument import Instrument
from makerd.protocol.risk import MarginReported
from makerd.venues.paper.position import PaperPosition

ZERO = Decimal(0)


def paper_leverage(config: PaperConfig, instrument: Instrument) -> int:
    """The leverage the modelled account trades ``instrument`` at."""
    return min(config.leverage, instrument.max_leverage)


@dataclass(frozen=True, slots=True, kw_only=True)
class CoinMargin:
    """One coin's part of the account: what it gained and the margin it holds."""

    pnl: Decimal
    """Realized PnL less fees, plus the open position's unrealized PnL at the mark."""
    position_margin: Decimal
    order_margin: Decimal
    """Reserved by resting orders that are not reduce-only."""


class MarginSource(Protocol):
    def coin_margin(self) -> CoinMargin: ...


class PaperAccount:
    """The one account behind every coin's paper exchange (a single coin's, alone)."""

    def __init__(self, start: Decimal) -> None:
        self._start = start
        self._coins: list[MarginSource] = []

    def join(self, coin: MarginSource) -> None:
        self._coins.append(coin)

    def affords(self, needed: Decimal) -> bool:
        """Whether ``needed`` more margin fits in the account's value now."""
        parts = [coin.coin_margin() for coin in self._coins]
        value = self._start + sum((part.pnl for part in parts), ZERO)
        used = sum((part.position_margin + part.order_margin for part in parts), ZERO)
        return used + needed <= value


def position_figures(
    *, position: PaperPosition, costs: Decimal, mark: Decimal | None, leverage: int
) -> tuple[Decimal, Decimal]:
    """(PnL, position margin) of one coin at ``mark`` (the entry price before any book);
    ``costs`` are the fees paid less the funding received."""
    price = position.average_entry if mark is None else mark
    unrealized = position.size * (price - position.average_entry)
    return position.realized - costs + unrealized, abs(position.size) * price / leverage


def paper_margin(
    *,
    position: PaperPosition,
    costs: Decimal,
    mid: Decimal | None,
    config: PaperConfig,
    leverage: int,
    at_ns: int,
    delivered_ns: int,
) -> MarginReported:
    """The margin the modelled account's coin uses at ``mid``, as the venue reports it."""
    pnl, used = position_figures(position=position, costs=costs, mark=mid, leverage=leverage)
    return MarginReported(
        account_value=config.account_value_usd + pnl,
        margin_used=used,
        ts_exchange=at_ns,
        ts_local=delivered_ns,
    )
