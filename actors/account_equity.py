"""With several coins, the journal's equity snapshots are the account's, one row per tick.

Each coin's fill tracker writes its own snapshot as it would alone; here those are gathered
and written as one row summing every coin's realized and unrealized PnL and fees, so the
drawdown and PnL a report reads from the equity table are the account's (a series mixing
coins' rows would have no meaning). The row's position and mark are 0: positions of
different coins do not add up; each coin's is in its fills.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from actors.fill_tracker import FillJournal
from protocol.account import OrderFilled

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class _Figures:
    realized: Decimal
    unrealized: Decimal
    fees: Decimal


class AccountEquity:
    """Collects each coin's newest snapshot; :meth:`flush` writes the account's row."""

    def __init__(self, journal: FillJournal) -> None:
        self._journal = journal
        self._latest: dict[str, _Figures] = {}
        self._pending: tuple[int, int] | None = None

    def take(
        self,
        coin: str,
        session_id: int,
        *,
        ts_ns: int,
        realized: Decimal,
        unrealized: Decimal,
        fees: Decimal,
    ) -> None:
        self._latest[coin] = _Figures(realized, unrealized, fees)
        self._pending = (session_id, ts_ns)

    def flush(self) -> None:
        if self._pending is None:
            return
        session_id, ts_ns = self._pending
        self._pending = None
        figures = self._latest.values()
        self._journal.record_equity(
            session_id,
            ts_ns=ts_ns,
            position=ZERO,
            realized=sum((f.realized for f in figures), ZERO),
            unrealized=sum((f.unrealized for f in figures), ZERO),
            fees=sum((f.fees for f in figures), ZERO),
            mark=ZERO,
        )


class CoinJournal:
    """One coin's journal: everything passes through but its equity snapshots."""

    def __init__(self, journal: FillJournal, *, coin: str, equity: AccountEquity) -> None:
        self._journal = journal
        self._coin = coin
        self._equity = equity

    def record_fill(
        self, session_id: int, fill: OrderFilled, *, realized_pnl: Decimal, position_after: Decimal
    ) -> bool:
        return self._journal.record_fill(
            session_id, fill, realized_pnl=realized_pnl, position_after=position_after
        )

    def session_fills(self, session_id: int) -> list[OrderFilled]:
        return self._journal.session_fills(session_id)

    def account_fills(self, account: str, coin: str) -> list[OrderFilled]:
        return self._journal.account_fills(account, coin)

    def booked_trade_ids(self) -> set[str]:
        return self._journal.booked_trade_ids()

    def record_position_adjustment(
        self, *, account: str, coin: str, ts_ns: int, size: Decimal, reason: str
    ) -> None:
        self._journal.record_position_adjustment(
            account=account, coin=coin, ts_ns=ts_ns, size=size, reason=reason
        )

    def position_adjustments(self, account: str, coin: str) -> list[tuple[int, Decimal]]:
        return self._journal.position_adjustments(account, coin)

    def record_equity(
        self,
        session_id: int,
        *,
        ts_ns: int,
        position: Decimal,
        realized: Decimal,
        unrealized: Decimal,
        fees: Decimal,
        mark: Decimal,
    ) -> None:
        del position, mark  # this coin's own: they do not add up over coins
        self._equity.take(
            self._coin,
            session_id,
            ts_ns=ts_ns,
            realized=realized,
            unrealized=unrealized,
            fees=fees,
        )
