"""The journal's records of money and risk beyond fills: funding payments (each booked
exactly once), the risk guardian's state carried across restarts, and kill-switch events.
"""

from __future__ import annotations

from decimal import Decimal

from makerd.daemon.journal_store import JournalStore, decimal_text
from makerd.protocol.account import FundingPaid
from makerd.protocol.risk import PersistedRisk


class RiskAndFundingRecords(JournalStore):
    """Funding payments, the risk state and the kill switch's history."""

    def record_funding(self, session_id: int, scope: str, payment: FundingPaid) -> bool:
        """Book ``payment``; True if new, False if ``scope`` already booked its key.

        ``scope`` is the venue account whose payments outlive a session (live), or the
        session itself (sim, paper): a repair or a restart can never book one twice.
        """
        cursor = self._write(
            "INSERT INTO funding_payments (scope, key, session_id, coin, amount, rate,"
            " position, ts_exchange, ts_local) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(scope, key) DO NOTHING",
            (
                scope, payment.key, session_id, payment.coin, decimal_text(payment.amount),
                decimal_text(payment.rate), decimal_text(payment.position),
                payment.ts_exchange, payment.ts_local,
            ),
        )  # fmt: skip
        return cursor.rowcount == 1

    def funding_payments(self, scope: str, coin: str) -> list[FundingPaid]:
        """Every payment booked in ``scope`` for ``coin``, in booking order."""
        rows = self._read(
            "SELECT key, amount, rate, position, ts_exchange, ts_local FROM funding_payments"
            " WHERE scope = ? AND coin = ? ORDER BY rowid",
            (scope, coin),
        )
        return [
            FundingPaid(
                coin=coin, key=key, amount=Decimal(amount), rate=Decimal(rate),
                position=Decimal(position), ts_exchange=ts_exchange, ts_local=ts_local,
            )
            for key, amount, rate, position, ts_exchange, ts_local in rows
        ]  # fmt: skip

    def session_funding(self, session_id: int) -> Decimal:
        """Funding received (negative: paid) in payments booked by ``session_id``."""
        rows = self._read("SELECT amount FROM funding_payments WHERE session_id = ?", (session_id,))
        return sum((Decimal(amount) for (amount,) in rows), Decimal(0))

    def record_kill_switch(self, *, ts_ns: int, action: str, reason: str, detail: str) -> None:
        """A latch trip (``action="trip"``) or an operator's clear (``action="clear"``)."""
        self._write(
            "INSERT INTO kill_switch_events (ts, reason, detail, action) VALUES (?, ?, ?, ?)",
            (ts_ns, reason, detail, action),
        )

    def kill_switch_events(self) -> list[tuple[int, str, str, str]]:
        """``(ts_ns, action, reason, detail)`` rows, oldest first."""
        rows = self._read(
            "SELECT ts, action, reason, detail FROM kill_switch_events ORDER BY rowid", ()
        )
        return [(ts, action, reason, detail) for ts, action, reason, detail in rows]

    # Risk state carried across restarts (one row; see actors/risk_account.py).

    def load_risk_state(self) -> PersistedRisk | None:
        """The risk guardian's last saved state, None before the first save."""
        rows = self._read(
            "SELECT day, day_pnl, peak_equity, equity, loss_streak, last_trip_reason,"
            " last_trip_ns, updated_ns FROM risk_state WHERE id = 1",
            (),
        )
        if not rows:
            return None
        day, day_pnl, peak, equity, streak, reason, trip_ns, updated_ns = rows[0]
        return PersistedRisk(
            day=day, day_pnl=Decimal(day_pnl), peak_equity=Decimal(peak),
            equity=Decimal(equity), loss_streak=streak, last_trip_reason=reason,
            last_trip_ns=trip_ns, updated_ns=updated_ns,
        )  # fmt: skip

    def save_risk_state(self, state: PersistedRisk) -> None:
        """Replace the saved risk state (an upsert of the single row)."""
        self._write(
            "INSERT INTO risk_state (id, day, day_pnl, peak_equity, equity, loss_streak,"
            " last_trip_reason, last_trip_ns, updated_ns) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET day = excluded.day, day_pnl = excluded.day_pnl,"
            " peak_equity = excluded.peak_equity, equity = excluded.equity,"
            " loss_streak = excluded.loss_streak, last_trip_reason = excluded.last_trip_reason,"
            " last_trip_ns = excluded.last_trip_ns, updated_ns = excluded.updated_ns",
            (
                state.day, decimal_text(state.day_pnl), decimal_text(state.peak_equity),
                decimal_text(state.equity),
                state.loss_streak, state.last_trip_reason, state.last_trip_ns, state.updated_ns,
            ),
        )  # fmt: skip
