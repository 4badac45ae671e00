"""makerd report --report-dir after a real sim run: the files exist, the plots are PNGs,
and every figure equals what a plain SQL reading of the journal gives."""

from __future__ import annotations

import base64
import csv
import itertools
import json
import re
import sqlite3
import struct
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from makerd.daemon.exit_codes import EXIT_CONFIG, EXIT_OK
from tests.processes import MakerdProcess

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REPORT_FILES = ("summary.json", "fills.csv", "equity.csv", "report.html")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 14-second sim session, then its report: (state dir, report dir)."""
    root = tmp_path_factory.mktemp("report")
    state, out = root / "state", root / "out"
    run = MakerdProcess(
        ["run", "--state-dir", str(state), "--metrics-port", "0", "--duration", "14"], cwd=root
    )
    assert run.finish() == EXIT_OK, run.text
    report = MakerdProcess(
        ["report", "--state-dir", str(state), "--report-dir", str(out)], cwd=root
    )
    assert report.finish() == EXIT_OK, report.text
    return state, out


def rows(state: Path, sql: str) -> list[Any]:
    with sqlite3.connect(state / "journal.sqlite") as db:
        return list(db.execute(sql))


def summary_of(out: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return document


def test_every_file_is_written_and_no_temporary_file_is_left(
    finished_run: tuple[Path, Path],
) -> None:
    _, out = finished_run
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    assert all((out / name).stat().st_size > 0 for name in REPORT_FILES)


def test_summary_figures_equal_sums_over_the_journal_rows(
    finished_run: tuple[Path, Path],
) -> None:
    state, out = finished_run
    summary = summary_of(out)
    fills = rows(state, "SELECT price, size, fee, liquidity, realized_pnl FROM fills")
    equity = rows(state, "SELECT realized, unrealized, fees FROM equity ORDER BY ts, rowid")
    assert fills, "the sim run traded"
    fees = sum((Decimal(fee) for _, _, fee, _, _ in fills), Decimal(0))
    realized = sum((Decimal(r) for *_, r in fills), Decimal(0))
    gross = realized + Decimal(equity[-1][1])
    totals = [Decimal(r) + Decimal(u) - Decimal(f) for r, u, f in equity]
    deepest = max(max(totals[: i + 1]) - total for i, total in enumerate(totals))

    assert summary["fills"] == len(fills)
    assert summary["maker_fills"] == sum(1 for row in fills if row[3] == "maker")
    assert Decimal(summary["volume_usd"]) == sum(
        (Decimal(p) * Decimal(s) for p, s, *_ in fills), Decimal(0)
    )
    assert Decimal(summary["fees_usd"]) == fees
    assert Decimal(summary["gross_pnl_usd"]) == gross
    funding = sum(
        (Decimal(a) for (a,) in rows(state, "SELECT amount FROM funding_payments")), Decimal(0)
    )
    assert Decimal(summary["net_pnl_usd"]) == gross - fees + funding
    assert Decimal(summary["net_pnl_before_funding_usd"]) == gross - fees
    assert Decimal(summary["max_drawdown_usd"]) == deepest
    positions = [Decimal(p) for (p,) in rows(state, "SELECT position FROM equity")]
    after_fills = [Decimal(p) for (p,) in rows(state, "SELECT position_after FROM fills")]
    inventory = summary["inventory"]
    assert Decimal(inventory["max_abs_position"]) == max(map(abs, positions + after_fills))
    assert Decimal(inventory["mean_abs_position"]) == round(
        sum(map(abs, positions), Decimal(0)) / len(positions), 8
    )
    assert Decimal(summary["funding_usd"]) == funding, "booked funding, 0 only if none was paid"
    assert summary["net_pnl_includes_funding"] is True


def test_the_summary_states_its_terms_first_and_has_no_sharpe_under_a_day(
    finished_run: tuple[Path, Path],
) -> None:
    _, out = finished_run
    summary = summary_of(out)

    assert list(summary)[:5] == ["mode", "fill_model", "latency", "fees_schedule",
                                 "sample_length_s"]  # fmt: skip
    assert summary["mode"] == "sim"
    assert "order entry 30 ms" in summary["latency"]
    assert "maker 0.00015" in summary["fees_schedule"]
    assert 10 < summary["sample_length_s"] < 60
    assert summary["sharpe_daily"]["value"] is None
    assert summary["sharpe_daily"]["days"] == 0
    assert re.fullmatch(r"n/a: [0-9.e-]+ days of data", summary["sharpe_daily"]["note"])


def test_fills_csv_has_one_row_per_journaled_fill_with_the_same_trade_ids(
    finished_run: tuple[Path, Path],
) -> None:
    state, out = finished_run
    with (out / "fills.csv").open(encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    journaled = rows(state, "SELECT trade_id, price, size, fee FROM fills ORDER BY rowid")

    assert [row["trade_id"] for row in written] == [trade_id for trade_id, *_ in journaled]
    assert [(Decimal(r["price"]), Decimal(r["size"]), Decimal(r["fee_usd"])) for r in written] == [
        (Decimal(p), Decimal(s), Decimal(f)) for _, p, s, f in journaled
    ]


def test_equity_csv_has_one_row_per_snapshot(finished_run: tuple[Path, Path]) -> None:
    state, out = finished_run
    with (out / "equity.csv").open(encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    journaled = rows(state, "SELECT ts, position FROM equity ORDER BY ts, rowid")

    assert [(int(r["ts_ns"]), Decimal(r["position"])) for r in written] == [
        (ts, Decimal(position)) for ts, position in journaled
    ]


def test_the_html_embeds_four_pngs_that_decode(finished_run: tuple[Path, Path]) -> None:
    _, out = finished_run
    page = (out / "report.html").read_text(encoding="utf-8")
    images = [base64.b64decode(data) for data in re.findall(r"base64,([A-Za-z0-9+/=]+)", page)]

    assert len(images) == 4
    for png in images:
        assert png[:8] == PNG_SIGNATURE
        width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk comes first
        assert width >= 800
        assert height >= 300
        assert len(png) > 5_000, "a drawn plot, not an empty canvas"
    opening = page[: page.index("<h2>Summary</h2>")]
    for term in ("sim BTC", "fill model: paper matching", "latency: order entry", "fees: maker"):
        assert term in opening


def test_our_quotes_against_the_touch_are_sampled_into_the_journal(
    finished_run: tuple[Path, Path],
) -> None:
    state, _ = finished_run
    samples = rows(state, "SELECT ts, bid, ask, touch_bid, touch_ask FROM quote_samples")

    last_equity = rows(state, "SELECT MAX(ts) FROM equity")[0][0]

    assert len(samples) >= 10
    times = [ts for ts, *_ in samples]
    assert times[-1] >= last_equity - 2_000_000_000, "the stop wrote the last, partial batch"
    assert all(b - a >= 1_000_000_000 for a, b in itertools.pairwise(times))
    quoted = [(Decimal(b), Decimal(a)) for _, b, a, _, _ in samples if b and a]
    assert quoted, "both sides were quoted"
    assert all(bid < ask for bid, ask in quoted)
    assert all(Decimal(tb) < Decimal(ta) for *_, tb, ta in samples if tb and ta)


def test_a_report_dir_that_is_a_file_is_refused_by_name_before_anything_is_written(
    finished_run: tuple[Path, Path], tmp_path: Path
) -> None:
    state, _ = finished_run
    occupied = tmp_path / "notes.txt"
    occupied.write_text("mine\n", encoding="utf-8")

    report = MakerdProcess(
        ["report", "--state-dir", str(state), "--report-dir", str(occupied)], cwd=tmp_path
    )

    assert report.finish() == EXIT_CONFIG
    assert f"--report-dir {occupied} exists and is not a directory" in report.text
    assert "Traceback" not in report.text
    assert occupied.read_text(encoding="utf-8") == "mine\n"
