"""``makerd report --report-dir DIR``: the session's report as files a dashboard can read.

``summary.json``, ``fills.csv``, ``equity.csv``, ``report.html`` (with its plots
embedded). Each file is written under a temporary name in DIR and renamed over the old
one, so a reader sees the previous file or the new one, never half of either.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from makerd.daemon.journal import EquitySnapshot, Journal, JournaledFill
from makerd.daemon.report_html import render_html
from makerd.daemon.report_plots import PlotInputs, render_all
from makerd.daemon.report_stats import report_figures, session_rows
from makerd.daemon.report_summary import headline, summary_document
from makerd.daemon.sessions import session_journal

FILL_COLUMNS = (
    "trade_id", "time_utc", "ts_exchange_ns", "ts_local_ns", "side", "price", "size",
    "notional_usd", "fee_usd", "liquidity", "realized_pnl_usd", "position_after", "late",
    "cloid", "venue_order_id",
)  # fmt: skip
EQUITY_COLUMNS = (
    "time_utc", "ts_ns", "position", "mark", "realized_usd", "unrealized_usd", "fees_usd",
    "total_pnl_usd", "drawdown_usd",
)  # fmt: skip


def write_session_report(state_dir: Path, session_id: int | None, report_dir: Path) -> list[Path]:
    """The files for ``session_id`` (default: the latest session) of the journal in
    ``state_dir``; NoJournalError without a journal, KeyError without that session."""
    with session_journal(state_dir, session_id) as (journal, chosen):
        return write_report(journal, chosen, report_dir)


def write_report(journal: Journal, session_id: int, report_dir: Path) -> list[Path]:
    """Write the four files for ``session_id`` into ``report_dir``; their paths, in order."""
    rows = session_rows(journal, session_id)
    figures = report_figures(journal, session_id, rows)
    fills, equity = rows.fills, rows.equity
    summary = summary_document(figures)
    plots = render_all(
        PlotInputs(
            started_ns=rows.record.started_ns,
            equity=equity,
            fills=fills,
            quotes=journal.report_tables.quote_samples(session_id),
            max_position=figures.position_limit,
        )
    )
    report_dir.mkdir(parents=True, exist_ok=True)
    contents = {
        "summary.json": json.dumps(summary, indent=2) + "\n",
        "fills.csv": fills_csv(fills),
        "equity.csv": equity_csv(equity),
        "report.html": render_html(headline(figures), summary, plots),
    }
    return [write_atomically(report_dir / name, text) for name, text in contents.items()]


def write_atomically(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, flush it to disk, rename it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def fills_csv(fills: Sequence[JournaledFill]) -> str:
    rows = []
    for booked in fills:
        fill = booked.fill
        rows.append((
            fill.trade_id, _utc(fill.ts_local), fill.ts_exchange, fill.ts_local,
            fill.side.name.lower(), _f(fill.price), _f(fill.size), _f(fill.price * fill.size),
            _f(fill.fee), fill.liquidity.value, _f(booked.realized_pnl),
            _f(booked.position_after), int(fill.late), fill.cloid or "", fill.venue_order_id,
        ))  # fmt: skip
    return _csv(FILL_COLUMNS, rows)


def equity_csv(equity: Sequence[EquitySnapshot]) -> str:
    rows = []
    peak = None
    for snapshot in equity:
        total = snapshot.total_pnl
        peak = total if peak is None or total > peak else peak
        rows.append((
            _utc(snapshot.ts_ns), snapshot.ts_ns, _f(snapshot.position), _f(snapshot.mark),
            _f(snapshot.realized), _f(snapshot.unrealized), _f(snapshot.fees), _f(total),
            _f(peak - total),
        ))  # fmt: skip
    return _csv(EQUITY_COLUMNS, rows)


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _f(value: object) -> str:
    return format(value, "f")


def _utc(ts_ns: int) -> str:
    moment = datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
