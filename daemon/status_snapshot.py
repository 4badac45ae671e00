"""One coin's status as the status line, ``makerd ctl status`` and the stop's confirmation
read it: a copy taken under the observer's lock."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from makerd.protocol.risk import TradingState
from makerd.protocol.side import Side


def asked_no_earlier(asked: tuple[int, int | None], than: tuple[int, int | None]) -> bool:
    """Whether a listing ``asked`` (wall, monotonic) was asked no earlier than ``than``: by
    the monotonic clock where both have it. By the wall clock alone, a listing asked before
    a step back of it read as newer than every one after, for the step's length: a stop
    took its stale count (0, or 12) for the venue's answer to its own sweep."""
    (wall, mono), (than_wall, than_mono) = asked, than
    if mono is not None and than_mono is not None:
        return mono >= than_mono
    return wall >= than_wall


@dataclass(slots=True)
class StatusSnapshot:
    mid: Decimal | None = None
    spread_bps: Decimal | None = None
    open_orders: int = 0
    fills: int = 0
    position: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    funding: Decimal = Decimal(0)
    restarts: int = 0
    state: TradingState = TradingState.NORMAL
    feed_stale: bool = False
    venue_open_orders: int | None = None
    venue_report_ns: int = 0
    """When the query behind ``venue_open_orders`` was asked (its local time)."""
    venue_report_mono_ns: int | None = None
    """The same on the monotonic clock (live): see :meth:`listed_since`."""
    venue_position: Decimal | None = None
    venue_position_ns: int = 0
    """When the venue's answer behind ``venue_position`` arrived (its local time)."""
    venue_position_read_ns: int = 0
    """When the venue read that position (its own time): a later reading replaces it."""
    open_by_cloid: dict[str, Side] = field(default_factory=dict)
    paused: bool = False
    """An operator paused quoting (``makerd ctl pause``) and has not resumed it."""
    flatten_gave_up_ns: int = 0
    """When a flatten last sent every closing order it may with the position still open
    (0: never): a stop that flattened since has nothing more to wait for."""
    risk_reason: str = ""
    """Why the risk guardian's state is what it is, in its own words ("" before it spoke):
    an operator reading "reduce_only" asks which limit, or the exchange's cap, holds it."""
    price_band_pause: bool = False
    """The risk guardian's halt is the price band's pause, which ends by itself: an
    operator reading "halted" would look for a kill switch that did not trip."""

    def listed_since(self, asked_ns: int, asked_mono_ns: int | None) -> bool:
        """Whether ``venue_open_orders`` comes from a listing asked at or after the given
        instant (see :func:`asked_no_earlier`)."""
        return asked_no_earlier(
            (self.venue_report_ns, self.venue_report_mono_ns), (asked_ns, asked_mono_ns)
        )

    @property
    def trading_state(self) -> str:
        """normal, reduce_only or halted (the risk guardian's), price_band_pause, or paused
        by an operator."""
        if self.state is TradingState.HALTED:
            return "price_band_pause" if self.price_band_pause else "halted"
        if self.paused:
            return "paused"
        return str(self.state.value)

    def line(self) -> str:
        mid = f"{self.mid:.2f}" if self.mid is not None else "-"
        spread = f"{self.spread_bps:.2f}" if self.spread_bps is not None else "-"
        return (
            f"mid={mid} spread_bps={spread} orders={self.open_orders} fills={self.fills} "
            f"pos={self.position} rpnl={self.realized_pnl:.2f} upnl={self.unrealized_pnl:.2f} "
            f"fees={self.fees:.2f} restarts={self.restarts} state={self.trading_state}"
            + (" feed=STALE" if self.feed_stale else "")
        )
