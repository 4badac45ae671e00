"""With several coins, the journal's equity rows are the account's, one row per tick.

Each coin's fill tracker publishes and writes its own ledger state as it would alone; here
those writes are gathered and one row is written summing every coin's PnL, fees and
funding, so the drawdown and PnL a report reads from the equity table are the account's
(a series mixing coins' rows would have no meaning). The row's position and mark are 0:
positions of different coins do not add up; each coin's is in its fills.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from makerd.actors.fill_tracker import FillJournal
from makerd.protocol.account import FundingPaid, OrderFilled, PositionChanged

ZERO = Decimal(0)
ACCOUNT = "*"
"""The coin an account-wide position names."""


def account_position(updates: Iterable[PositionChanged], now_ns: int) -> PositionChanged:
    """Every coin's ledger as one flat position: its PnL, fees and funding summed."""
    published = list(updates)
    return PositionChanged(
        coin=ACCOUNT,
        position=ZERO,
        average_entry=ZERO,
        realized_pnl=sum((p.realized_pnl for p in published), ZERO),
        unrealized_pnl=sum((p.unrealized_pnl for p in published), ZERO),
        fees_paid=sum((p.fees_paid for p in published), ZERO),
        mark=ZERO,
        ts_local=now_ns,
        funding=sum((p.funding for p in published), ZERO),
        carried_pnl=sum((p.carried_pnl for p in published), ZERO),
    )


class AccountEquity:
    """Collects each coin's newest state; :meth:`flush` writes the account's row."""

    def __init__(self, journal: FillJournal) -> None:
        self._journal = journal
        self._latest: dict[str, PositionChanged] = {}
        self._pending: int | None = None

    def take(self, session_id: int, published: PositionChanged) -> None:
        self._latest[published.coin] = published
        self._pending = session_id

    def last_mark(self, coin: str) -> Decimal:
        """The mark ``coin``'s newest state was valued at (0: none yet)."""
        latest = self._latest.get(coin)
        return latest.mark if latest is not None else ZERO

    def flush(self) -> None:
        if self._pending is None:
            return
        session_id, self._pending = self._pending, None
        now = max(published.ts_local for published in self._latest.values())
        self._journal.record_equity(session_id, account_position(self._latest.values(), now))


class CoinJournal:
    """One coin's journal: everything passes through but its equity rows."""

    def __init__(self, journal: FillJournal, *, equity: AccountEquity) -> None:
        self._journal = journal
        self._equity = equity

    def record_fill(
        self, session_id: int, fill: OrderFilled, *, realized_pnl: Decimal, position_after: Decimal
    ) -> bool:
        return self._journal.record_fill(
            session_id, fill, realized_pnl=realized_pnl, position_after=position_after
        )

    def session_fills(self, session_id: int) -> list[OrderFilled]:
        return self._journal.session_fills(session_id)

    def record_host_lead(self, session_id: int, lead_ns: int) -> None:
        self._journal.record_host_lead(session_id, lead_ns)

    def account_since_ns(self, account: str) -> int | None:
        return self._journal.account_since_ns(account)

    def account_fills(self, account: str, coin: str) -> list[OrderFilled]:
        return self._journal.account_fills(account, coin)

    def has_fill(self, trade_id: str) -> bool:
        return self._journal.has_fill(trade_id)

    def record_position_adjustment(
        self, *, account: str, coin: str, ts_ns: int, size: Decimal, reason: str
    ) -> None:
        self._journal.record_position_adjustment(
            account=account, coin=coin, ts_ns=ts_ns, size=size, reason=reason
        )

    def position_adjustments(self, account: str, coin: str) -> list[tuple[int, Decimal]]:
        return self._journal.position_adjustments(account, coin)

    def record_equity(self, session_id: int, published: PositionChanged) -> None:
        self._equity.take(session_id, published)

    def last_mark(self, session_id: int, coin: str) -> Decimal:
        return self._equity.last_mark(coin)

    def record_funding(self, session_id: int, scope: str, payment: FundingPaid) -> bool:
        return self._journal.record_funding(session_id, scope, payment)

    def funding_payments(self, scope: str, coin: str) -> list[FundingPaid]:
        return self._journal.funding_payments(scope, coin)

    def last_account_total(self, account: str, coin: str, before_session: int) -> Decimal | None:
        return self._journal.last_account_total(account, coin, before_session)
