"""The report's figures on journals written by hand (a real SQLite journal): the Sharpe
rule, inventory over time, funding when known, atomic files, and the quote sampler."""

from __future__ import annotations

import sqlite3
import statistics
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.actors.quote_sampler import QuoteSample, QuoteSampler
from makerd.config.model import MakerdConfig
from makerd.daemon.backtest import run_simulated
from makerd.daemon.journal import Journal
from makerd.daemon.report_files import write_atomically, write_report
from makerd.daemon.report_stats import report_figures
from makerd.daemon.report_summary import headline, summary_document
from makerd.daemon.session_settings import PAPER_FILL_MODEL, record_settings
from makerd.protocol.account import FundingPaid, PositionChanged, funding_key
from makerd.protocol.control import TimerFired
from tests.kit import MS, T0, S, book, target

DAY = 86_400 * S


def journal_with_equity(
    path: Path, points: list[tuple[int, str, str]], *, mode: str = "backtest"
) -> tuple[Journal, int]:
    """A session (a backtest's) whose equity snapshots are ``(ts, position, total pnl)``."""
    journal = Journal(path / "journal.sqlite")
    session = journal.start_session(mode=mode, coin="BTC", ts_ns=T0)
    record_settings(journal, session, MakerdConfig(), mode=mode)
    for ts, position, total in points:
        journal.record_equity(session, PositionChanged(
            coin="BTC", position=Decimal(position), average_entry=Decimal(60_000),
            realized_pnl=Decimal(0), unrealized_pnl=Decimal(total), fees_paid=Decimal(0),
            mark=Decimal(60_000), ts_local=ts,
        ))  # fmt: skip
    return journal, session


def test_less_than_a_day_of_data_gives_no_sharpe_and_says_how_much_there_was(
    tmp_path: Path,
) -> None:
    journal, session = journal_with_equity(
        tmp_path, [(T0, "0", "0"), (T0 + 4 * DAY // 10, "0", "80")]
    )

    sharpe = report_figures(journal, session).sharpe

    assert sharpe.value is None
    assert sharpe.days == 0
    assert sharpe.note == "n/a: 0.4 days of data"


def test_one_whole_day_is_still_no_sharpe(tmp_path: Path) -> None:
    journal, session = journal_with_equity(
        tmp_path, [(T0, "0", "0"), (T0 + DAY, "0", "10"), (T0 + 3 * DAY // 2, "0", "12")]
    )

    sharpe = report_figures(journal, session).sharpe

    assert sharpe.value is None
    assert sharpe.days == 1
    assert sharpe.note.startswith("n/a: 1.5 days of data")


def test_three_days_give_a_sharpe_of_the_daily_pnl_with_its_day_count(tmp_path: Path) -> None:
    points = [(T0, "0", "0"), (T0 + DAY // 2, "0", "99"), (T0 + DAY, "0", "10"),
              (T0 + 2 * DAY, "0", "5"), (T0 + 3 * DAY, "0", "25")]  # fmt: skip
    journal, session = journal_with_equity(tmp_path, points)

    sharpe = summary_document(report_figures(journal, session))["sharpe_daily"]

    daily = [10.0, -5.0, 20.0]  # the mid-day high of 99 is no day's close
    expected = statistics.fmean(daily) / statistics.stdev(daily) * 365**0.5
    assert isinstance(sharpe, dict)
    assert sharpe["days"] == 3
    assert sharpe["value"] == pytest.approx(expected, abs=1e-4)


def test_inventory_is_weighted_by_how_long_each_position_was_held(tmp_path: Path) -> None:
    points = [(T0, "0", "0"), (T0 + 1 * S, "0.05", "0"), (T0 + 3 * S, "-0.05", "0"),
              (T0 + 4 * S, "0.02", "0")]  # fmt: skip
    journal, session = journal_with_equity(tmp_path, points)

    figures = report_figures(journal, session)

    assert figures.position_limit == Decimal("0.05"), "the config's risk.max_position"
    inventory = figures.inventory
    assert inventory.time_at_limit_s == 3.0
    assert inventory.time_at_limit_share == 0.75
    assert inventory.time_weighted_abs == Decimal("0.0375")
    assert inventory.mean_abs == Decimal("0.03")
    assert inventory.max_abs == Decimal("0.05")


def test_booked_funding_payments_are_summed_into_the_net_pnl(tmp_path: Path) -> None:
    # Paper books funding (a backtest simulates none: tests/test_redteam5_backtest_report.py).
    points = [(T0, "0", "0"), (T0 + S, "0", "4")]
    journal, session = journal_with_equity(tmp_path, points, mode="paper")
    for hour, amount in ((1, "-1.25"), (2, "0.5")):
        payment = FundingPaid(
            coin="BTC", amount=Decimal(amount), rate=Decimal("0.0001"), position=Decimal(1),
            key=funding_key("BTC", hour * 3_600_000), ts_exchange=T0, ts_local=T0,
        )  # fmt: skip
        journal.record_funding(session, f"session:{session}", payment)

    summary = summary_document(report_figures(journal, session))

    assert summary["funding_usd"] == "-0.75"
    assert summary["gross_pnl_usd"] == "4"
    assert summary["net_pnl_usd"] == "3.25"
    assert summary["net_pnl_includes_funding"] is True


def test_a_session_from_before_settings_were_kept_says_unknown(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)

    figures = report_figures(journal, session)

    assert figures.settings.fill_model.startswith("unknown")
    assert figures.position_limit is None
    assert figures.turnover is None


def test_a_failed_write_leaves_the_previous_file_whole_and_no_temporary_behind(
    tmp_path: Path,
) -> None:
    path = tmp_path / "summary.json"
    write_atomically(path, "old\n")

    with pytest.raises(UnicodeEncodeError):
        write_atomically(path, "new \ud800")  # a lone surrogate cannot be written as UTF-8

    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_quotes_are_sampled_once_a_second_and_written_in_batches(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    sampler = QuoteSampler(journal=journal.report_tables, session_id=session)
    sent: list[object] = [target([("99", "1")], [("102", "1")])]
    sampler.observe(object(), sent, book("100", "101"))

    for tick in range(25):  # a timer every 500 ms for 12 s: 13 samples, one batch of 10
        sampler.observe(TimerFired(ts_local=T0 + tick * 500 * MS), [], book("100", "101"))

    samples = journal.report_tables.quote_samples(session)
    assert [s.ts_local for s in samples] == [T0 + i * S for i in range(10)]
    assert {(s.bid, s.ask, s.touch_bid, s.touch_ask) for s in samples} == {
        (Decimal(99), Decimal(102), Decimal(100), Decimal(101))
    }


def test_a_session_with_nothing_journaled_still_gets_every_file(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    session = journal.start_session(mode="paper", coin="ETH", ts_ns=T0)

    written = write_report(journal, session, tmp_path / "out")

    assert [p.name for p in written] == ["summary.json", "fills.csv", "equity.csv", "report.html"]
    assert (tmp_path / "out" / "fills.csv").read_text(encoding="utf-8").count("\n") == 1
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 4
    assert "fill model: unknown" in page


def test_a_deterministic_backtest_reports_to_its_last_second(tmp_path: Path) -> None:
    run_simulated(MakerdConfig(), seconds=7, state_dir=tmp_path)  # less than one batch
    journal = Journal(tmp_path / "journal.sqlite")
    session = journal.latest_session_id()
    assert session is not None

    samples = journal.report_tables.quote_samples(session)
    summary = summary_document(report_figures(journal, session))

    assert len(samples) == 7, "the driver's stop wrote the partial batch"
    assert summary["mode"] == "backtest"
    assert summary["fill_model"] == PAPER_FILL_MODEL


def test_a_refused_batch_of_samples_leaves_the_journal_usable(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    sample = QuoteSample(ts_local=T0, bid=None, ask=Decimal(101), touch_bid=Decimal(100),
                         touch_ask=Decimal(101))  # fmt: skip

    with pytest.raises(sqlite3.IntegrityError):
        journal.report_tables.record_quote_samples(session + 1, [sample])  # no such session
    journal.report_tables.record_quote_samples(session, [sample])

    assert journal.report_tables.quote_samples(session) == [sample]
    assert journal.start_session(mode="sim", coin="BTC", ts_ns=T0 + S) == session + 1


def test_a_live_session_states_the_exchange_fills_and_real_latency(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    session = journal.start_session(mode="live", coin="BTC", ts_ns=T0, account="0xabc")
    record_settings(journal, session, MakerdConfig(), mode="live")

    opening = headline(report_figures(journal, session))

    assert opening[1] == "fill model: the exchange's own matching (real fills)"
    assert opening[2] == "latency: real (the network and the exchange)"
    assert opening[3] == "fees: charged by the exchange, per fill"


def test_a_report_that_fails_part_way_leaves_every_earlier_file_as_it_was(
    tmp_path: Path,
) -> None:
    run_simulated(MakerdConfig(), seconds=30, state_dir=tmp_path)
    journal = Journal(tmp_path / "journal.sqlite")
    session = journal.latest_session_id()
    assert session is not None
    out = tmp_path / "out"
    write_report(journal, session, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        # The equity pass (the first file) reads whole; the fills pass (the second) fails.
        db.execute(
            "UPDATE fills SET price = 'garbage' WHERE rowid = (SELECT MAX(rowid) FROM fills)"
        )
        db.execute("UPDATE equity SET mark = '1' WHERE session_id = ?", (session,))

    with pytest.raises(ArithmeticError):
        write_report(journal, session, out)

    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
