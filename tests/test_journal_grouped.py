"""Grouped writes (a backtest's journal): the same rows as one transaction per write, seen at
once by the run that writes them, committed by ``close`` whatever happened."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.actors.quote_sampler import QuoteSample
from makerd.daemon.journal import Journal
from tests.test_journal import T0, a_fill

TABLES = ("sessions", "fills", "order_events", "quote_samples")


def _write_a_session(journal: Journal, fills: int) -> None:
    session = journal.start_session(mode="backtest", coin="BTC", ts_ns=T0)
    for n in range(fills):
        fill = replace(a_fill(f"t{n}"), ts_exchange=T0 + n)
        assert journal.record_fill(
            session, fill, realized_pnl=Decimal(n), position_after=Decimal(1)
        )
        # A duplicate is refused from the rows not yet committed, as from committed ones.
        assert not journal.record_fill(
            session, fill, realized_pnl=Decimal(0), position_after=Decimal(0)
        )
        journal.record_order_event(session, ts_ns=T0 + n, cloid=f"c{n}", event="placed", detail="")
        if n % 7 == 0:
            sample = QuoteSample(
                ts_local=T0 + n,
                bid=Decimal("99.5"),
                ask=Decimal("100.5"),
                touch_bid=Decimal(99),
                touch_ask=Decimal(101),
            )
            journal.report_tables.record_quote_samples(session, [sample, sample])
    journal.end_session(session, ts_ns=T0 + fills, summary_json="{}")


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with closing(sqlite3.connect(path)) as db:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            for table in TABLES
        }


def test_grouped_writes_leave_the_same_rows_as_a_transaction_per_write(tmp_path: Path) -> None:
    with Journal(tmp_path / "plain.sqlite") as plain:
        _write_a_session(plain, 250)
    with Journal(tmp_path / "grouped.sqlite") as grouped:
        grouped.group_writes(100)
        _write_a_session(grouped, 250)

    expected = _rows(tmp_path / "plain.sqlite")
    assert len(expected["fills"]) == 250
    assert len(expected["quote_samples"]) == 72
    assert _rows(tmp_path / "grouped.sqlite") == expected


def test_another_reader_sees_whole_groups_and_close_commits_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    journal = Journal(path)
    journal.group_writes(10)
    session = journal.start_session(mode="backtest", coin="BTC", ts_ns=T0)
    for n in range(24):  # with the session's row: 25 writes, two groups and five pending
        journal.record_order_event(session, ts_ns=T0 + n, cloid=f"c{n}", event="placed", detail="")

    assert len(_rows(path)["order_events"]) == 19
    journal.close()
    assert len(_rows(path)["order_events"]) == 24


def test_a_refused_batch_inside_a_group_takes_back_only_its_own_rows(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal(path) as journal:
        journal.group_writes(1000)
        session = journal.start_session(mode="backtest", coin="BTC", ts_ns=T0)
        journal.record_order_event(session, ts_ns=T0, cloid="c0", event="placed", detail="")
        good = QuoteSample(
            ts_local=T0, bid=Decimal(1), ask=Decimal(2), touch_bid=Decimal(1), touch_ask=Decimal(2)
        )
        # A sample without a time breaks the table's NOT NULL after the first row went in.
        bad = replace(good, ts_local=None)  # type: ignore[arg-type]
        with pytest.raises(sqlite3.IntegrityError):
            journal.report_tables.record_quote_samples(session, [good, bad])
        journal.record_order_event(session, ts_ns=T0 + 1, cloid="c1", event="placed", detail="")

    rows = _rows(path)
    assert [row[2] for row in rows["order_events"]] == ["c0", "c1"]
    assert rows["quote_samples"] == []
