"""Funding moves the paper account's value, as it moves the venue's balance.

The venue pays funding into (or takes it from) the account's balance, so its account
value, its margin report and the margin its orders are checked against all move with it.
Paper handed each payment to makerd's ledger but left the modelled account's value as if
none had been paid: the margin ratio the risk guardian judges, and from now on the margin
check at placement, ignored every funding payment.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from makerd.config.model import PaperConfig, SimConfig
from makerd.protocol.account import FundingPaid
from makerd.protocol.orders import (
    OrderRequest,
    PlaceOrders,
    RequestMargin,
    TimeInForce,
)
from makerd.protocol.risk import MarginReported
from makerd.protocol.side import Side
from makerd.venues.sim.venue import SimVenue, sim_instrument
from tests.kit import T0, S

SIM = SimConfig(funding_interval_s=10.0)


def run_with_funding(rate: Decimal) -> tuple[MarginReported, list[FundingPaid]]:
    """Sell 0.01 at the market, hold it across one funding time, ask for the margin."""
    sim = dataclasses.replace(SIM, funding_rate=rate)
    instrument = sim_instrument(sim)
    venue = SimVenue(instrument, sim=sim, paper=PaperConfig(), start_ns=T0)
    venue.advance(T0 + S)
    sell = OrderRequest(
        cloid="0x" + "1" * 32,
        coin="BTC",
        side=Side.SELL,
        price=instrument.round_price(venue.mid * Decimal("0.9"), Side.SELL),
        size=Decimal("0.01"),
        tif=TimeInForce.IMMEDIATE_OR_CANCEL,
    )
    venue.submit(PlaceOrders(orders=(sell,), ts_local=T0 + S), T0 + S)
    events = venue.advance(T0 + 12 * S)
    venue.submit(RequestMargin(ts_local=T0 + 12 * S), T0 + 12 * S)
    events += venue.advance(T0 + 13 * S)
    [report] = [e for e in events if isinstance(e, MarginReported)]
    return report, [e for e in events if isinstance(e, FundingPaid)]


def test_the_paper_accounts_value_counts_the_funding_its_position_received() -> None:
    unfunded, [nothing] = run_with_funding(Decimal(0))
    funded, [payment] = run_with_funding(Decimal("0.001"))

    assert nothing.amount == 0
    assert payment.amount > 0, "a short receives a positive rate"
    assert funded.account_value - unfunded.account_value == payment.amount
