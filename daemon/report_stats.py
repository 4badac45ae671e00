"""The figures of the session report files, computed from journal rows alone.

Money stays :class:`Decimal` end to end; only ratios (maker share, time fractions, the
Sharpe ratio) are floats. The rows are read a page at a time and walked once
(:mod:`daemon.report_walk`), so a weeks-long session needs no more memory than an hour's.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from makerd.daemon.journal import EquitySnapshot, Journal, JournaledFill
from makerd.daemon.report import SummaryWalk, funding_simulated
from makerd.daemon.report_walk import EquityWalk, FillWalk, Inventory, Sharpe
from makerd.daemon.session_settings import SessionSettings, read_settings
from makerd.daemon.sessions import unreadable_recording


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFigures:
    session_id: int
    mode: str
    coin: str
    settings: SessionSettings
    sample_s: float
    fills: int
    maker_fills: int
    volume_usd: Decimal
    turnover: Decimal | None
    """Volume over the position limit's notional at the mean mark (None: no limit or mark)."""
    gross_pnl_usd: Decimal
    fees_usd: Decimal
    funding_usd: Decimal | None
    """Funding received (+) or paid (−), from the journal's booked funding payments; None
    for a session that simulates none (a backtest): unknown, and left out of the net PnL."""
    net_pnl_usd: Decimal
    max_drawdown_usd: Decimal
    position_limit: Decimal | None
    """The session's ``risk.max_position`` (None for a session that did not keep it)."""
    inventory: Inventory
    sharpe: Sharpe
    cut_short_by: str | None = None
    """``FILE:LINE: problem`` of the file that ended a replay part-way: every figure ends
    at that line, not at the end of the data given."""

    @property
    def maker_share(self) -> float:
        return self.maker_fills / self.fills if self.fills else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionWalks:
    """One session's rows, walked: what the figures need from its equity and its fills."""

    equity: EquityWalk
    fills: FillWalk
    summary: SummaryWalk

    @classmethod
    def new(cls, journal: Journal, session_id: int) -> SessionWalks:
        return cls(
            equity=EquityWalk(session_limit(journal, session_id)),
            fills=FillWalk(),
            summary=SummaryWalk(),
        )

    def add_snapshot(self, snapshot: EquitySnapshot) -> None:
        self.equity.add(snapshot)
        self.summary.add_snapshot(snapshot)

    def add_fill(self, booked: JournaledFill) -> None:
        self.fills.add(booked)
        self.summary.add_fill(booked)


def session_limit(journal: Journal, session_id: int) -> Decimal | None:
    """The session's ``risk.max_position`` (None for a session that did not keep it)."""
    limit = read_settings(journal, session_id).max_position
    return Decimal(limit) if limit is not None else None


def walk_session(journal: Journal, session_id: int) -> SessionWalks:
    """Walk the session's equity and fills (KeyError if there is no such session)."""
    journal.session(session_id)
    walks = SessionWalks.new(journal, session_id)
    for snapshot in journal.equity_in_pages(session_id):
        walks.add_snapshot(snapshot)
    for booked in journal.fills_in_pages(session_id):
        walks.add_fill(booked)
    return walks


def report_figures(
    journal: Journal, session_id: int, walks: SessionWalks | None = None
) -> ReportFigures:
    """Every figure of the report files for ``session_id`` (KeyError if there is none)."""
    walks = walks or walk_session(journal, session_id)
    record = journal.session(session_id)
    summary = walks.summary.summary(journal, session_id)
    settings = read_settings(journal, session_id)
    limit = session_limit(journal, session_id)
    gross = summary.realized_pnl_usd + summary.unrealized_pnl_usd
    # The summary's own figures: the same total the run printed and the kill switch judged.
    # Funding a session does not simulate is unknown, not the zero its journal sums to.
    funding = summary.funding_usd if funding_simulated(record.mode) else None
    net = summary.total_pnl_usd
    return ReportFigures(
        session_id=session_id,
        mode=record.mode,
        coin=record.coin,
        settings=settings,
        sample_s=summary.duration_s,
        fills=walks.fills.count,
        maker_fills=walks.fills.makers,
        volume_usd=summary.volume_usd,
        turnover=walks.equity.turnover(summary.volume_usd),
        gross_pnl_usd=gross,
        fees_usd=summary.fees_usd,
        funding_usd=funding,
        net_pnl_usd=net,
        max_drawdown_usd=summary.max_drawdown_usd,
        position_limit=limit,
        inventory=walks.equity.inventory(walks.fills),
        sharpe=walks.equity.sharpe(),
        cut_short_by=unreadable_recording(journal, session_id),
    )
