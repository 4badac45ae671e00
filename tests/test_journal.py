"""The SQLite journal: exactly-once fills, exact decimals, and the session report."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from makerd.daemon.journal import Journal, JournalError
from makerd.daemon.journal_schema import SCHEMA_VERSION
from makerd.daemon.report import SessionSummary, format_summary, summarize, summary_to_json
from makerd.protocol.account import (
    FundingPaid,
    Liquidity,
    OrderFilled,
    PositionChanged,
    funding_key,
)
from makerd.protocol.side import Side

T0 = 1_700_000_000_000_000_000
SECOND = 1_000_000_000


def a_fill(
    trade_id: str = "t1",
    *,
    side: Side = Side.BUY,
    price: str = "60000.5",
    size: str = "0.00123",
    fee: str = "0.011070",
    liquidity: Liquidity = Liquidity.MAKER,
) -> OrderFilled:
    return OrderFilled(
        trade_id=trade_id,
        cloid="0x0000000000000000000000000000abcd",
        venue_order_id=77,
        coin="BTC",
        side=side,
        price=Decimal(price),
        size=Decimal(size),
        fee=Decimal(fee),
        liquidity=liquidity,
        ts_exchange=T0,
        ts_local=T0 + 5,
    )


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "state" / "journal.sqlite") as opened:
        yield opened


def book(journal: Journal, session_id: int, fill: OrderFilled, position_after: str = "0") -> bool:
    return journal.record_fill(
        session_id, fill, realized_pnl=Decimal(0), position_after=Decimal(position_after)
    )


def test_a_fill_is_booked_once_even_when_the_venue_sends_it_twice(journal: Journal) -> None:
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)

    first = book(journal, session, a_fill("t1"))
    again = book(journal, session, a_fill("t1"))

    assert (first, again) == (True, False)
    assert len(journal.fills(session)) == 1


def test_a_fill_replayed_in_a_later_session_is_still_a_duplicate(journal: Journal) -> None:
    earlier = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    book(journal, earlier, a_fill("t1"))
    later = journal.start_session(mode="sim", coin="BTC", ts_ns=T0 + SECOND)

    booked = book(journal, later, a_fill("t1"))

    assert booked is False
    assert journal.booked_trade_ids() == {"t1"}
    assert journal.fills(later) == []


def test_fills_read_back_with_exact_decimals_and_every_field(journal: Journal) -> None:
    session = journal.start_session(mode="live", coin="BTC", ts_ns=T0)
    fill = a_fill("t9", side=Side.SELL, price="0.000012340", fee="-0.00000001")

    journal.record_fill(
        session, fill, realized_pnl=Decimal("1.1000"), position_after=Decimal("-0.00123")
    )
    [stored] = journal.fills()

    assert stored.fill == fill
    assert str(stored.fill.price) == "0.000012340"
    assert stored.realized_pnl == Decimal("1.1000")
    assert stored.position_after == Decimal("-0.00123")
    assert stored.session_id == session


def test_a_non_finite_amount_is_refused_rather_than_journaled(journal: Journal) -> None:
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)

    with pytest.raises(ValueError, match="non-finite"):
        journal.record_fill(
            session, a_fill(), realized_pnl=Decimal("NaN"), position_after=Decimal(0)
        )

    assert journal.fills() == []


def test_a_fill_for_an_unknown_session_raises_instead_of_vanishing(journal: Journal) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        book(journal, 999, a_fill())


def test_the_journal_uses_wal_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal(path) as journal:
        session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
        book(journal, session, a_fill("t1"))

    with Journal(path) as reopened:
        trade_ids = reopened.booked_trade_ids()
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]

    assert trade_ids == {"t1"}
    assert mode == "wal"


def test_a_journal_from_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    sqlite3.connect(path).execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}").connection.close()

    with pytest.raises(JournalError, match="schema version"):
        Journal(path)


def test_concurrent_writers_book_every_fill_exactly_once(journal: Journal) -> None:
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    newly_booked: list[bool] = []
    lock = threading.Lock()

    def writer() -> None:
        for n in range(50):
            booked = book(journal, session, a_fill(f"t{n}"))
            with lock:
                newly_booked.append(booked)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert newly_booked.count(True) == 50
    assert len(journal.fills(session)) == 50


def test_sessions_order_events_restarts_and_kill_switch_events_are_kept(
    journal: Journal,
) -> None:
    session = journal.start_session(mode="paper", coin="ETH", ts_ns=T0)
    journal.record_order_event(session, ts_ns=T0 + 1, cloid="0xa", event="placed", detail="")
    journal.record_restart(
        session, ts_ns=T0 + 2, role="quoter", kind="abnormal", error="boom", restarts_in_window=1
    )
    journal.record_kill_switch(ts_ns=T0 + 3, action="trip", reason="max_drawdown", detail="-301")
    journal.end_session(session, ts_ns=T0 + 4, summary_json='{"fills": 0}')

    record = journal.session(session)

    assert (record.mode, record.coin, record.ended_ns) == ("paper", "ETH", T0 + 4)
    assert record.summary_json == '{"fills": 0}'
    assert journal.order_events(session) == [(T0 + 1, "0xa", "placed", "")]
    assert journal.restart_count(session) == 1
    assert journal.kill_switch_events() == [(T0 + 3, "trip", "max_drawdown", "-301")]
    assert journal.latest_session_id() == session


def test_a_kill_switch_event_must_be_a_trip_or_a_clear(journal: Journal) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        journal.record_kill_switch(ts_ns=T0, action="maybe", reason="operator", detail="")


def snapshot(journal: Journal, session: int, second: int, **amounts: str) -> None:
    values = {"position": "0", "realized": "0", "unrealized": "0", "fees": "0", "mark": "60000"}
    values.update(amounts)
    journal.record_equity(
        session,
        PositionChanged(
            coin="BTC",
            position=Decimal(values["position"]),
            average_entry=Decimal(0),
            realized_pnl=Decimal(values["realized"]),
            unrealized_pnl=Decimal(values["unrealized"]),
            fees_paid=Decimal(values["fees"]),
            mark=Decimal(values["mark"]),
            funding=Decimal(values.get("funding", "0")),
            ts_local=T0 + second * SECOND,
        ),
    )


def test_the_summary_counts_fills_volume_maker_ratio_and_fees(journal: Journal) -> None:
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    book(journal, session, a_fill("t1", price="100", size="2", fee="0.03"))
    book(
        journal, session, a_fill("t2", price="101", size="1", fee="0.05", liquidity=Liquidity.TAKER)
    )
    journal.record_fill(
        session,
        a_fill("t3", side=Side.SELL, price="102", size="2", fee="0.03"),
        realized_pnl=Decimal("4"),
        position_after=Decimal("1"),
    )
    snapshot(journal, session, 0)
    snapshot(journal, session, 60, position="1", realized="4", unrealized="1.5", fees="0.11")
    journal.end_session(session, ts_ns=T0 + 60 * SECOND, summary_json="{}")

    summary = summarize(journal, session)

    assert summary == SessionSummary(
        fills=3,
        volume_usd=Decimal("505"),
        maker_ratio=2 / 3,
        fees_usd=Decimal("0.11"),
        funding_usd=Decimal(0),
        realized_pnl_usd=Decimal("4"),
        unrealized_pnl_usd=Decimal("1.5"),
        total_pnl_usd=Decimal("5.39"),
        max_drawdown_usd=Decimal(0),
        restarts=0,
        duration_s=60.0,
        final_position=Decimal("1"),
    )


def test_a_loss_a_flatten_realized_after_the_last_snapshot_is_counted_once(
    journal: Journal,
) -> None:
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    book(journal, session, a_fill("t1", price="100", size="1", fee="0"))
    snapshot(journal, session, 1, position="1", unrealized="-5", mark="95")
    # The flatten's fill closes the position at 95 after that snapshot: −5 realized.
    flatten = replace(
        a_fill("t2", side=Side.SELL, price="95", size="1", fee="0.1"), ts_local=T0 + 2 * SECOND
    )
    journal.record_fill(session, flatten, realized_pnl=Decimal(-5), position_after=Decimal(0))

    summary = summarize(journal, session)

    assert summary.unrealized_pnl_usd == 0, "nothing is open after the flatten"
    assert summary.total_pnl_usd == Decimal("-5.1"), "not −10.1: the loss once, and the fee"
    assert summary.final_position == 0


def test_funding_received_and_paid_counts_in_the_total(journal: Journal) -> None:
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    for hour, amount in ((1, "0.25"), (2, "-0.75")):
        payment = FundingPaid(
            coin="BTC", amount=Decimal(amount), rate=Decimal("0.0001"), position=Decimal(1),
            key=funding_key("BTC", hour * 3_600_000), ts_exchange=T0, ts_local=T0,
        )  # fmt: skip
        assert journal.record_funding(session, "session:1", payment)
        assert not journal.record_funding(session, "session:1", payment), "booked once"

    summary = summarize(journal, session)

    assert summary.funding_usd == Decimal("-0.5")
    assert summary.total_pnl_usd == Decimal("-0.5")


def test_max_drawdown_is_the_deepest_fall_from_a_previous_peak(journal: Journal) -> None:
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    # Total PnL path: 0, 10, 4, 12, 5, 9  -> worst peak-to-trough is 12 -> 5 = 7.
    for second, unrealized in enumerate(["0", "10", "4", "12", "5", "9"]):
        snapshot(journal, session, second, unrealized=unrealized)

    summary = summarize(journal, session)

    assert summary.max_drawdown_usd == Decimal(7)


def test_a_session_that_only_gains_has_zero_drawdown(journal: Journal) -> None:
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    for second, realized in enumerate(["1", "2", "3"]):
        snapshot(journal, session, second, realized=realized)

    assert summarize(journal, session).max_drawdown_usd == Decimal(0)


def test_fees_count_against_the_pnl_the_drawdown_is_measured_on(journal: Journal) -> None:
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    snapshot(journal, session, 0)
    snapshot(journal, session, 1, realized="1", fees="4")
    snapshot(journal, session, 2, realized="2", fees="4")

    assert summarize(journal, session).max_drawdown_usd == Decimal(3)


def test_an_empty_session_summarises_to_zeros_and_formats_readably(journal: Journal) -> None:
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    journal.record_restart(
        session, ts_ns=T0 + 1, role="book_feed", kind="hung", error="", restarts_in_window=1
    )

    summary = summarize(journal, session)
    text = format_summary(summary)

    assert (summary.fills, summary.maker_ratio, summary.restarts) == (0, 0.0, 1)
    assert "fills" in text
    assert "restarts" in text
    assert len(text.splitlines()) >= 8


def test_the_formatted_summary_shows_money_in_dollars_and_the_maker_ratio() -> None:
    summary = SessionSummary(
        fills=3,
        volume_usd=Decimal("12345.678"),
        maker_ratio=2 / 3,
        fees_usd=Decimal("1.5"),
        funding_usd=Decimal("0.5"),
        realized_pnl_usd=Decimal("-4.25"),
        unrealized_pnl_usd=Decimal("1"),
        total_pnl_usd=Decimal("-4.25"),
        max_drawdown_usd=Decimal("6"),
        restarts=2,
        duration_s=90.0,
        final_position=Decimal("-0.00200"),
    )

    lines = format_summary(summary).splitlines()

    assert "volume          12,345.68 USD" in lines
    assert "maker ratio     66.7%" in lines
    assert "funding         0.50 USD" in lines
    assert "total pnl       -4.25 USD" in lines
    assert "final position  -0.00200" in lines
    assert "restarts        2" in lines


def test_the_json_summary_keeps_decimals_exact() -> None:
    summary = SessionSummary(
        fills=1,
        volume_usd=Decimal("0.1"),
        maker_ratio=1.0,
        fees_usd=Decimal("0.000015"),
        funding_usd=Decimal(0),
        realized_pnl_usd=Decimal(0),
        unrealized_pnl_usd=Decimal(0),
        total_pnl_usd=Decimal("-0.000015"),
        max_drawdown_usd=Decimal(0),
        restarts=0,
        duration_s=1.5,
        final_position=Decimal("0.001"),
    )

    decoded = json.loads(summary_to_json(summary))

    assert decoded["fees_usd"] == "0.000015"
    assert decoded["total_pnl_usd"] == "-0.000015"
    assert decoded["fills"] == 1
    assert decoded["duration_s"] == 1.5


def test_a_session_of_several_coins_shows_no_summed_position(journal: Journal) -> None:
    session = journal.start_session(mode="sim", coin="BTC,ETH", ts_ns=T0)
    book(journal, session, a_fill("t1", price="100", size="1", fee="0"))

    summary = summarize(journal, session)

    assert summary.final_position is None, "a BTC and an ETH position do not add up"
    assert "final position  each coin's, below" in format_summary(summary)
    assert json.loads(summary_to_json(summary))["final_position"] is None


def test_the_paged_readers_give_every_row_once_in_order_across_page_boundaries(
    journal: Journal,
) -> None:
    """Equity rows sharing a timestamp are neither skipped nor repeated at a page's edge."""
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    other = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    for n in range(13):
        book(journal, session, a_fill(f"t{n}", price=str(60_000 + n)))
        book(journal, other, a_fill(f"other{n}"))
        snapshot(journal, session, n // 3, unrealized=str(n))  # three rows per timestamp
        snapshot(journal, other, n)

    paged_equity = list(journal.equity_in_pages(session, page=4))
    paged_fills = list(journal.fills_in_pages(session, page=5))

    assert paged_equity == journal.equity(session)
    assert [s.unrealized for s in paged_equity] == [Decimal(n) for n in range(13)]
    assert paged_fills == journal.fills(session)
    assert [f.fill.trade_id for f in paged_fills] == [f"t{n}" for n in range(13)]
