"""The figures of the session report files, computed from journal rows alone.

Money stays :class:`Decimal` end to end; only ratios (maker share, time fractions, the
Sharpe ratio) are floats. Inventory over time is the equity snapshots' position held
until the next snapshot (the fill tracker writes one a second), so "time-weighted"
and "time at the limit" are measured on that step function.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass
from decimal import Decimal

from makerd.daemon.journal import EquitySnapshot, Journal, JournaledFill, SessionRecord
from makerd.daemon.report import max_drawdown, summarize
from makerd.daemon.session_settings import SessionSettings, read_settings
from makerd.protocol.account import Liquidity

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
DAYS_PER_YEAR = 365


@dataclass(frozen=True, slots=True, kw_only=True)
class Sharpe:
    """An annualised Sharpe ratio of daily PnL, or why there is none (``value`` None)."""

    value: float | None
    days: int
    """Whole days of PnL it is computed from."""
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    mean_abs: Decimal
    """Mean of |position| over the snapshots."""
    time_weighted_abs: Decimal
    max_abs: Decimal
    time_at_limit_s: float
    time_at_limit_share: float


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
    """Funding received (+) or paid (−), from the journal's booked funding payments
    (None is kept for figures made without them; the journal always has them now)."""
    net_pnl_usd: Decimal
    max_drawdown_usd: Decimal
    position_limit: Decimal | None
    """The session's ``risk.max_position`` (None for a session that did not keep it)."""
    inventory: Inventory
    sharpe: Sharpe

    @property
    def maker_share(self) -> float:
        return self.maker_fills / self.fills if self.fills else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRows:
    """The journal rows of one session that the files and plots are made of, read once."""

    record: SessionRecord
    fills: list[JournaledFill]
    equity: list[EquitySnapshot]


def session_rows(journal: Journal, session_id: int) -> SessionRows:
    """KeyError if there is no such session."""
    return SessionRows(
        record=journal.session(session_id),
        fills=journal.fills(session_id),
        equity=journal.equity(session_id),
    )


def report_figures(
    journal: Journal, session_id: int, rows: SessionRows | None = None
) -> ReportFigures:
    """Every figure of the report files for ``session_id`` (KeyError if there is none)."""
    rows = rows or session_rows(journal, session_id)
    record, fills, equity = rows.record, rows.fills, rows.equity
    summary = summarize(journal, session_id)
    settings = read_settings(journal, session_id)
    limit = Decimal(settings.max_position) if settings.max_position is not None else None
    gross = summary.realized_pnl_usd + summary.unrealized_pnl_usd
    # The summary's own figures: the same total the run printed and the kill switch judged.
    funding, net = summary.funding_usd, summary.total_pnl_usd
    return ReportFigures(
        session_id=session_id,
        mode=record.mode,
        coin=record.coin,
        settings=settings,
        sample_s=summary.duration_s,
        fills=len(fills),
        maker_fills=sum(1 for b in fills if b.fill.liquidity is Liquidity.MAKER),
        volume_usd=summary.volume_usd,
        turnover=_turnover(summary.volume_usd, equity, limit),
        gross_pnl_usd=gross,
        fees_usd=summary.fees_usd,
        funding_usd=funding,
        net_pnl_usd=net,
        max_drawdown_usd=max_drawdown(equity),
        position_limit=limit,
        inventory=inventory_stats(equity, fills, limit),
        sharpe=daily_sharpe(equity),
    )


def inventory_stats(
    equity: list[EquitySnapshot], fills: list[JournaledFill], limit: Decimal | None
) -> Inventory:
    """|position| statistics; each snapshot's position holds until the next snapshot."""
    sizes = [abs(s.position) for s in equity]
    held_ns = [later.ts_ns - s.ts_ns for s, later in itertools.pairwise(equity)]
    span_ns = sum(held_ns)
    weighted = sum((size * ns for size, ns in zip(sizes, held_ns, strict=False)), Decimal(0))
    at_limit_ns = 0
    if limit is not None and limit > 0:
        at_limit_ns = sum(ns for size, ns in zip(sizes, held_ns, strict=False) if size >= limit)
    peaks = sizes + [abs(b.position_after) for b in fills]
    return Inventory(
        mean_abs=sum(sizes, Decimal(0)) / len(sizes) if sizes else Decimal(0),
        time_weighted_abs=weighted / span_ns if span_ns else Decimal(0),
        max_abs=max(peaks, default=Decimal(0)),
        time_at_limit_s=at_limit_ns / NS_PER_S,
        time_at_limit_share=at_limit_ns / span_ns if span_ns else 0.0,
    )


def daily_sharpe(equity: list[EquitySnapshot]) -> Sharpe:
    """Mean over standard deviation of daily PnL, times √365; only from whole days.

    Days are 24-hour windows from the first snapshot; a day's PnL is the change of total
    PnL across it. Less than a day of data gives no figure at all, and one day gives one
    daily PnL, whose spread is unknown: both say so instead of printing a number.
    """
    if not equity:
        return Sharpe(value=None, days=0, note="n/a: no equity snapshots")
    start = equity[0].ts_ns
    span_days = (equity[-1].ts_ns - start) / NS_PER_DAY
    whole = int(span_days)
    if whole < 1:
        return Sharpe(value=None, days=0, note=f"n/a: {span_days:.2g} days of data")
    if whole < 2:
        return Sharpe(
            value=None,
            days=whole,
            note=f"n/a: {span_days:.2g} days of data, 1 whole day; a spread needs 2",
        )
    daily = [float(b - a) for a, b in itertools.pairwise(_day_closes(equity, whole))]
    spread = statistics.stdev(daily)
    if spread == 0:
        return Sharpe(value=None, days=whole, note=f"n/a: daily PnL constant over {whole} days")
    value = statistics.fmean(daily) / spread * DAYS_PER_YEAR**0.5
    return Sharpe(value=value, days=whole, note=f"{value:.2f} from {whole} days")


def _day_closes(equity: list[EquitySnapshot], days: int) -> list[Decimal]:
    """Total PnL at the start and at each whole day's end (the last snapshot at or before)."""
    start = equity[0].ts_ns
    closes = [equity[0].total_pnl]
    index = 0
    for day in range(1, days + 1):
        boundary = start + day * NS_PER_DAY
        while index + 1 < len(equity) and equity[index + 1].ts_ns <= boundary:
            index += 1
        closes.append(equity[index].total_pnl)
    return closes


def _turnover(
    volume: Decimal, equity: list[EquitySnapshot], limit: Decimal | None
) -> Decimal | None:
    marks = [s.mark for s in equity if s.mark > 0]
    if limit is None or limit <= 0 or not marks:
        return None
    return volume / (limit * sum(marks, Decimal(0)) / len(marks))
