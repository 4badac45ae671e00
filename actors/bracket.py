"""Bracket mode for the order_manager: one reduce-only take-profit / stop-loss pair.

The pair covers the whole open position (size ``|position|``) around its average entry,
both taken from the fill_tracker's :class:`PositionChanged`, so it follows every fill
rather than stacking one pair per fill as the old system did: one pair is all the venue
needs, and a partial fill of a trigger leaves the rest of the position covered by the
pair that replaces it. The pair is replaced whenever the position or its entry changes,
cancelled when the position is flat or trading stops, and placed again if the venue
dropped it. These orders are not quote levels: the quote diff never sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal

from makerd.config.model import QuotingConfig
from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import OrderRequest, TimeInForce, Trigger, TriggerKind
from makerd.protocol.side import Side
from makerd.quoting.bracket import BracketOrder, BracketSettings, compute_bracket

_KINDS = {"tp": TriggerKind.TAKE_PROFIT, "sl": TriggerKind.STOP_LOSS}


@dataclass(frozen=True, slots=True, kw_only=True)
class BracketPlan:
    """What to send: cancel the pair's orders that still work, then place the new pair."""

    cancel: tuple[str, ...] = ()
    place: tuple[OrderRequest, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Basis:
    position: Decimal
    average_entry: Decimal


class BracketKeeper:
    """Decides when the pair must be placed, replaced or cancelled (no I/O, no clock)."""

    def __init__(
        self, *, instrument: Instrument, settings: BracketSettings, new_cloid: Callable[[], str]
    ) -> None:
        self._instrument = instrument
        self._settings = settings
        self._new_cloid = new_cloid
        self._basis: _Basis | None = None
        self._cloids: tuple[str, ...] = ()

    @property
    def cloids(self) -> tuple[str, ...]:
        """The client order ids of the pair last placed (empty when none is wanted)."""
        return self._cloids

    def follow(
        self,
        *,
        position: Decimal,
        average_entry: Decimal,
        working: Collection[str],
        may_place: bool,
    ) -> BracketPlan:
        """The actions that make the live pair match ``position``.

        ``working`` holds the cloids of orders that rest or soon will; a pair member
        missing from it was filled, cancelled or rejected, so the pair is placed again.
        ``may_place`` is False while trading is stopped or halted: then only cancels.
        """
        alive = tuple(cloid for cloid in self._cloids if cloid in working)
        wanted = self._wanted(position, average_entry) if may_place else None
        if wanted is not None and wanted == self._basis and alive == self._cloids:
            return BracketPlan()
        self._basis, self._cloids = None, ()
        if wanted is None:
            return BracketPlan(cancel=alive)
        bracket = compute_bracket(
            fill_side=Side.BUY if wanted.position > 0 else Side.SELL,
            entry_price=wanted.average_entry,
            size=abs(wanted.position),
            instrument=self._instrument,
            settings=self._settings,
        )
        place = (self._request(bracket.take_profit), self._request(bracket.stop_loss))
        self._basis, self._cloids = wanted, tuple(order.cloid for order in place)
        return BracketPlan(cancel=alive, place=place)

    def _wanted(self, position: Decimal, average_entry: Decimal) -> _Basis | None:
        size = self._instrument.round_size(abs(position))
        if size <= 0 or average_entry <= 0:
            return None
        return _Basis(position=size if position > 0 else -size, average_entry=average_entry)

    def _request(self, order: BracketOrder) -> OrderRequest:
        return OrderRequest(
            cloid=self._new_cloid(),
            coin=self._instrument.coin,
            side=order.side,
            price=order.limit_price,
            size=order.size,
            tif=TimeInForce.IMMEDIATE_OR_CANCEL,
            reduce_only=True,
            trigger=Trigger(price=order.trigger_price, kind=_KINDS[order.kind]),
        )


def bracket_settings(quoting: QuotingConfig) -> BracketSettings | None:
    """The configured bracket distances, or None when bracket mode is off (both zero)."""
    if quoting.bracket_take_profit_bps == 0 and quoting.bracket_stop_loss_bps == 0:
        return None
    return BracketSettings(
        take_profit_bps=quoting.bracket_take_profit_bps,
        stop_loss_bps=quoting.bracket_stop_loss_bps,
        limit_slippage_bps=quoting.bracket_limit_slippage_bps,
    )
