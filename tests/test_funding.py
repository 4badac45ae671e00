"""Funding payments: charged by the sim venue on the open position, booked once each,
and counted in the PnL the summary and the kill switch share."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

from makerd.config.model import MakerdConfig, Scenario
from makerd.daemon.backtest import run_simulated
from makerd.daemon.journal import Journal
from makerd.venues.paper.funding import FundingSchedule, funding_payment

S = 1_000_000_000
HOUR = 3600 * S


def test_funding_times_are_whole_intervals_each_passed_once() -> None:
    schedule = FundingSchedule(interval_ns=HOUR, start_ns=10 * HOUR + 5 * S)

    assert schedule.due(11 * HOUR - 1) == []
    assert schedule.due(13 * HOUR) == [11 * HOUR, 12 * HOUR, 13 * HOUR]
    assert schedule.due(13 * HOUR + 1) == []


def test_a_long_pays_a_positive_rate_and_a_short_receives_it() -> None:
    def paid(position: str) -> Decimal | None:
        payment = funding_payment(
            coin="BTC", position=Decimal(position), mark=Decimal(60_000),
            rate=Decimal("0.0000125"), time_ns=HOUR, ts_local=HOUR,
        )  # fmt: skip
        return None if payment is None else payment.amount

    assert paid("0.1") == Decimal("-0.075000")  # 0.1 x 60000 x 0.0000125
    assert paid("-0.1") == Decimal("0.075000")
    assert paid("0") is None, "nothing is charged on a flat position"


def test_the_sim_charges_funding_on_the_real_position_and_the_summary_counts_it(
    tmp_path: Path,
) -> None:
    base = MakerdConfig()
    config = dataclasses.replace(
        base,
        sim=dataclasses.replace(
            base.sim,
            scenario=Scenario.VOLATILE,
            funding_interval_s=5.0,
            funding_rate=Decimal("0.001"),
        ),
    )

    result = run_simulated(config, seconds=60, state_dir=tmp_path)

    with Journal(tmp_path / "journal.sqlite") as journal:
        payments = journal.funding_payments("session:1", "BTC")
        fills = journal.fills(1)
    assert len(payments) >= 3, "the position was open at several funding times"
    assert len({p.key for p in payments}) == len(payments)
    for payment in payments:
        held = sum(
            (
                f.fill.size * f.fill.side.sign
                for f in fills
                if f.fill.ts_exchange <= payment.ts_exchange
            ),
            Decimal(0),
        )
        assert payment.position == held, "charged on the position the fills made"
        assert payment.amount * payment.position < 0, "a positive rate: longs pay, shorts receive"
    summary = result.summary
    assert summary.funding_usd == sum((p.amount for p in payments), Decimal(0))
    assert summary.total_pnl_usd == (
        summary.realized_pnl_usd
        + summary.unrealized_pnl_usd
        - summary.fees_usd
        + summary.funding_usd
    )
