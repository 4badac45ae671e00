"""A restarted fill tracker values the position it rebuilt at the last price it knew.

It used to publish (and journal) its first state with no mark, so an open position's
unrealized PnL read 0 until the next book: ``makerd_pnl_unrealized_usd`` fell to 0, the
risk guardian saw the session's PnL drop by the whole unrealized gain (a drawdown that
never happened, enough to trip ``risk.max_drawdown_usd``), and ``makerd report`` showed
that drop as the session's max drawdown, and 0 unrealized PnL if the run ended there.
"""

from __future__ import annotations

from pathlib import Path

from makerd.actors.account_equity import AccountEquity, CoinJournal
from makerd.actors.fill_tracker import FillJournal, FillTrackerLogic
from makerd.daemon.journal import Journal
from makerd.daemon.report import summarize
from makerd.protocol.account import PositionChanged
from makerd.protocol.side import Side
from tests.kit import T0, S, book, d, fill, of_type


def started(
    journal: FillJournal, session_id: int, now_ns: int
) -> tuple[FillTrackerLogic, list[object]]:
    logic = FillTrackerLogic(
        coin="BTC",
        journal=journal,
        session_id=session_id,
        mark_publish_interval_ns=S,
        equity_interval_ns=S,
    )
    return logic, logic.start(now_ns)


def test_a_restarted_tracker_keeps_the_unrealized_pnl_the_report_and_risk_read(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    first, _ = started(journal, session, T0)
    first.handle(fill("t1", Side.BUY, "60000", "0.1", ts=T0 + S))
    first.handle(book("60999", "61001", ts=T0 + 3 * S))  # +100 USD unrealized

    _, published = started(journal, session, T0 + 4 * S)  # the crashed tracker's successor

    (state,) = of_type(published, PositionChanged)
    assert state.unrealized_pnl == d("100")
    summary = summarize(journal, session)
    assert summary.unrealized_pnl_usd == d("100")
    assert summary.max_drawdown_usd == 0


def test_a_restarted_tracker_of_a_basket_keeps_its_coins_unrealized_pnl(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    session = journal.start_session(mode="sim", coin="BTC,ETH", ts_ns=T0)
    coin_journal = CoinJournal(journal, equity=AccountEquity(journal))
    first, _ = started(coin_journal, session, T0)
    first.handle(fill("t1", Side.BUY, "60000", "0.1", ts=T0 + S))
    first.handle(book("60999", "61001", ts=T0 + 3 * S))

    _, published = started(coin_journal, session, T0 + 4 * S)

    (state,) = of_type(published, PositionChanged)
    assert state.unrealized_pnl == d("100")


def test_a_new_live_session_values_the_carried_position_where_its_pnl_was_carried(
    tmp_path: Path,
) -> None:
    """The next run carries the account's last total PnL in, unrealized gain included; its
    first state valued the position at no mark, so the session began 100 USD down: a loss
    ``risk.session_loss_usd`` judged before the first book came."""
    journal = Journal(tmp_path / "j.sqlite")
    account = "http://127.0.0.1:1 0xabc"
    first = journal.start_session(mode="live", coin="BTC", ts_ns=T0, account=account)
    since = journal.account_since_ns(account)
    assert since is not None

    def tracker(session_id: int) -> FillTrackerLogic:
        return FillTrackerLogic(
            coin="BTC",
            journal=journal,
            session_id=session_id,
            mark_publish_interval_ns=S,
            equity_interval_ns=S,
            account=account,
            responsible_since_ns=since,
        )

    earlier = tracker(first)
    earlier.start(T0)
    earlier.handle(fill("t1", Side.BUY, "60000", "0.1", ts=T0 + S))
    earlier.handle(book("60999", "61001", ts=T0 + 3 * S))
    journal.end_session(first, ts_ns=T0 + 4 * S, summary_json="{}")
    second = journal.start_session(mode="live", coin="BTC", ts_ns=T0 + 9 * S, account=account)

    (state,) = of_type(tracker(second).start(T0 + 9 * S), PositionChanged)

    assert state.unrealized_pnl == d("100")
    assert state.session_pnl == 0
