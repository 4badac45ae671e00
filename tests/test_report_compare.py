"""Two summaries side by side (the seam for makerd report --replay): the divergence of
each figure, and figures a summary lacks shown as n/a, never as 0."""

from __future__ import annotations

from decimal import Decimal

from makerd.daemon.report_compare import (
    compare_summaries,
    comparison_document,
    format_comparison,
)

LIVE: dict[str, object] = {
    "mode": "live", "fill_model": "the exchange's own matching (real fills)",
    "sample_length_s": 600.0, "fills": 40, "volume_usd": "4800.50", "gross_pnl_usd": "2.00",
    "fees_usd": "0.72", "net_pnl_usd": "1.28", "maker_share": 0.95, "funding_usd": "unknown",
}  # fmt: skip
REPLAY: dict[str, object] = {
    "mode": "backtest", "fill_model": "paper matching engine", "sample_length_s": 600.0,
    "fills": 44, "volume_usd": "5280.55", "gross_pnl_usd": "1.00", "fees_usd": "0.79",
    "net_pnl_usd": "0.21", "maker_share": 1.0, "average_queue_wait_s": 2.5,
}  # fmt: skip


def test_each_figure_diverges_by_the_second_minus_the_first() -> None:
    divergences = {d.label: d for d in compare_summaries(LIVE, REPLAY)}

    assert divergences["fills"].difference == 4
    assert divergences["fills"].relative == Decimal("0.1")
    assert divergences["volume (USD)"].difference == Decimal("480.05")
    assert divergences["net pnl (USD)"].difference == Decimal("-1.07")
    assert divergences["maker share"].difference == Decimal("0.05")


def test_a_figure_one_summary_lacks_is_not_compared() -> None:
    waits = {d.label: d for d in compare_summaries(LIVE, REPLAY)}["average queue wait (s)"]

    assert waits.first is None
    assert waits.second == Decimal("2.5")
    assert waits.difference is None


def test_the_printout_opens_with_both_sessions_terms_then_aligned_rows() -> None:
    lines = format_comparison(LIVE, REPLAY).splitlines()

    assert lines[0].startswith("live: mode live, fill_model the exchange's own matching")
    assert lines[1].startswith("replay: mode backtest, fill_model paper matching engine")
    assert lines[2].split() == ["live", "replay", "divergence"]
    rows = {line.split("  ")[0]: line.split() for line in lines[3:]}
    assert rows["fills"][-3:] == ["44", "+4", "(+10.0%)"]
    assert rows["net pnl (USD)"][-4:] == ["1.28", "0.21", "-1.07", "(-83.6%)"]
    assert rows["average queue wait (s)"][-3:] == ["n/a", "2.5", "n/a"]
    fills_line = next(line for line in lines if line.startswith("fills"))
    assert fills_line.index("+4") == lines[2].index("divergence"), "columns line up"


def test_a_long_quotient_is_shown_to_a_millionth() -> None:
    live = {**LIVE, "gross_pnl_usd": "-0.0780299999999999999999998549"}

    row = next(
        line for line in format_comparison(live, REPLAY).splitlines() if line.startswith("gross")
    )

    assert row.split()[-4:] == ["-0.078030", "1.00", "+1.078030", "(+1381.6%)"]


ETH_LIVE: dict[str, object] = {
    "fills": 10, "volume_usd": "300.00", "realized_pnl_usd": "0.50", "fees_usd": "0.045",
    "maker_share": 1.0, "average_queue_wait_s": "1.200",
}  # fmt: skip
ETH_REPLAY: dict[str, object] = {**ETH_LIVE, "fills": 8, "average_queue_wait_s": None}


def test_each_coin_gets_the_accounts_columns_under_it() -> None:
    lines = format_comparison(LIVE, REPLAY, coins={"ETH": (ETH_LIVE, ETH_REPLAY)}).splitlines()

    coin_at = lines.index("ETH")
    rows = {line.split("  ")[1]: line.split() for line in lines[coin_at + 1 :]}
    assert list(rows) == [
        "fills", "volume (USD)", "realized pnl (USD)", "fees (USD)", "maker share",
        "average queue wait (s)",
    ]  # fmt: skip
    assert rows["fills"][-4:] == ["10", "8", "-2", "(-20.0%)"]
    assert rows["average queue wait (s)"][-3:] == ["1.200", "n/a", "n/a"]
    eth_fills = lines[coin_at + 1]
    assert eth_fills.index("-2") == lines[2].index("divergence"), "the account's columns"


def test_the_comparison_document_has_the_printed_rows_of_the_account_and_each_coin() -> None:
    document = comparison_document(LIVE, REPLAY, coins={"ETH": (ETH_LIVE, ETH_REPLAY)})

    account = {row["figure"]: row for row in document["account"]}  # type: ignore[attr-defined]
    eth = {row["figure"]: row for row in document["coins"]["ETH"]}  # type: ignore[index]
    assert account["fills"] == {
        "figure": "fills", "live": "40", "replay": "44", "difference": "4", "relative": 0.1,
    }  # fmt: skip
    assert eth["fills"]["difference"] == "-2"
    assert eth["fills"]["relative"] == -0.2
    assert eth["average queue wait (s)"]["replay"] is None
    assert eth["average queue wait (s)"]["difference"] is None
    assert document["terms"]["replay"]["mode"] == "backtest"  # type: ignore[index]


def test_a_live_sessions_funding_is_not_read_as_a_pnl_divergence_of_its_replay() -> None:
    # The same trading, live and replayed: the live session paid 0.50 of funding, which
    # no backtest simulates.
    live = {**LIVE, "funding_usd": "-0.50", "net_pnl_usd": "0.78",
            "net_pnl_before_funding_usd": "1.28"}  # fmt: skip
    replay = {**LIVE, "mode": "backtest", "funding_usd": "unknown",
              "net_pnl_before_funding_usd": "1.28"}  # fmt: skip

    divergences = {d.label: d for d in compare_summaries(live, replay)}

    assert divergences["net pnl before funding (USD)"].difference == 0
    assert divergences["funding (USD)"].first == Decimal("-0.50")
    assert divergences["funding (USD)"].difference is None, "the replay's funding is unknown"
    assert divergences["net pnl (USD)"].difference == Decimal("0.50"), "the funding alone"
