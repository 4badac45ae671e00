"""``makerd report --report-dir DIR``: the session's report as files a dashboard can read.

``summary.json``, ``fills.csv``, ``equity.csv``, ``report.html`` (with its plots
embedded). Each file is written under a temporary name in DIR and renamed over the old
one, so a reader sees the previous file or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, TypeVar

from makerd.actors.quote_sampler import QuoteSample
from makerd.daemon.journal import EquitySnapshot, Journal, JournaledFill
from makerd.daemon.report_html import render_html
from makerd.daemon.report_plots import PlotInputs, render_all
from makerd.daemon.report_stats import SessionWalks, report_figures
from makerd.daemon.report_summary import headline, summary_document
from makerd.daemon.report_walk import Thinned
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
REPORT_FILES = ("summary.json", "fills.csv", "equity.csv", "report.html")
Row = TypeVar("Row")


def write_session_report(state_dir: Path, session_id: int | None, report_dir: Path) -> list[Path]:
    """The files for ``session_id`` (default: the latest session) of the journal in
    ``state_dir``; NoJournalError without a journal, KeyError without that session."""
    with session_journal(state_dir, session_id) as (journal, chosen):
        return write_report(journal, chosen, report_dir)


def write_report(journal: Journal, session_id: int, report_dir: Path) -> list[Path]:
    """Write the four files for ``session_id`` into ``report_dir``; their paths, in order.

    Each table is read once, a page at a time: its rows go to their CSV, to the walk that
    sums the figures, and to the plot's thinned series as they are read. The files are
    renamed into place together once all four are written."""
    record = journal.session(session_id)
    report_dir.mkdir(parents=True, exist_ok=True)
    walks = SessionWalks.new(journal, session_id)
    equity_points: Thinned[EquitySnapshot] = Thinned(key=lambda s: s.total_pnl)
    fill_points: Thinned[JournaledFill] = Thinned(key=lambda b: b.fill.price)
    quote_points: Thinned[QuoteSample] = Thinned(key=_quote_level)
    staged = StagedFiles(report_dir)
    try:
        with staged.open("equity.csv") as out:
            equity = journal.equity_in_pages(session_id)
            rows = _equity_rows(_tee(equity, walks.add_snapshot, equity_points.add))
            _write_csv(out, EQUITY_COLUMNS, rows)
        with staged.open("fills.csv") as out:
            fills = journal.fills_in_pages(session_id)
            _write_csv(
                out, FILL_COLUMNS, map(_fill_row, _tee(fills, walks.add_fill, fill_points.add))
            )
        for sample in journal.report_tables.quote_samples_in_pages(session_id):
            quote_points.add(sample)
        figures = report_figures(journal, session_id, walks)
        summary = summary_document(figures)
        plots = render_all(
            PlotInputs(
                started_ns=record.started_ns,
                equity=equity_points.kept(),
                fills=fill_points.kept(),
                quotes=quote_points.kept(),
                max_position=figures.position_limit,
            )
        )
        with staged.open("summary.json") as out:
            out.write(json.dumps(summary, indent=2) + "\n")
        with staged.open("report.html") as out:
            out.write(render_html(headline(figures), summary, plots))
        staged.commit()
    finally:
        staged.discard()
    return [report_dir / name for name in REPORT_FILES]


class StagedFiles:
    """Files written under temporary names beside their final ones, then renamed into place
    together: a failure part-way leaves every earlier file as it was, and a reader sees
    each file whole, old or new."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._written: list[tuple[Path, Path]] = []

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[IO[str]]:
        path = self._directory / name
        temporary = path.with_name(f".{name}.{os.getpid()}.tmp")
        self._written.append((temporary, path))
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())

    def commit(self) -> None:
        for temporary, path in self._written:
            temporary.replace(path)

    def discard(self) -> None:
        """Remove what was written and not committed (nothing, after :meth:`commit`)."""
        for temporary, _path in self._written:
            temporary.unlink(missing_ok=True)


def write_atomically(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, flush it to disk, rename it."""
    staged = StagedFiles(path.parent)
    try:
        with staged.open(path.name) as handle:
            handle.write(text)
        staged.commit()
    finally:
        staged.discard()
    return path


def _write_csv(out: IO[str], header: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def _tee(rows: Iterable[Row], *sinks: Callable[[Row], None]) -> Iterator[Row]:
    for row in rows:
        for sink in sinks:
            sink(row)
        yield row


def _fill_row(booked: JournaledFill) -> tuple[object, ...]:
    fill = booked.fill
    return (
        fill.trade_id, _utc(fill.ts_local), fill.ts_exchange, fill.ts_local,
        fill.side.name.lower(), _f(fill.price), _f(fill.size), _f(fill.price * fill.size),
        _f(fill.fee), fill.liquidity.value, _f(booked.realized_pnl),
        _f(booked.position_after), int(fill.late), fill.cloid or "", fill.venue_order_id,
    )  # fmt: skip


def _equity_rows(equity: Iterable[EquitySnapshot]) -> Iterator[tuple[object, ...]]:
    peak = None
    for snapshot in equity:
        total = snapshot.total_pnl
        peak = total if peak is None or total > peak else peak
        yield (
            _utc(snapshot.ts_ns), snapshot.ts_ns, _f(snapshot.position), _f(snapshot.mark),
            _f(snapshot.realized), _f(snapshot.unrealized), _f(snapshot.fees), _f(total),
            _f(peak - total),
        )  # fmt: skip


def _quote_level(sample: QuoteSample) -> Decimal:
    """What the quotes plot's thinning keeps the extremes of: the market's bid where
    there was one, else ours."""
    return sample.touch_bid or sample.bid or Decimal(0)


def _f(value: object) -> str:
    return format(value, "f")


def _utc(ts_ns: int) -> str:
    moment = datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
