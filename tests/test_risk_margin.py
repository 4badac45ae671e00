"""Margin use: what the paper venue models, what reaches the quoter, and the sim's soft action."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

from makerd.actors.quoter import QuoterLogic
from makerd.config.model import MakerdConfig, PaperConfig
from makerd.daemon.backtest import run_simulated
from makerd.daemon.wiring import build_estimators
from makerd.protocol.market import BookLevel, BookSnapshotReceived
from makerd.protocol.orders import (
    OrderRequest,
    PlaceOrders,
    QuoteTarget,
    RequestMargin,
    TimeInForce,
)
from makerd.protocol.risk import MarginReported, RiskLimit, RiskStateChanged, TradingState
from makerd.protocol.side import Side
from makerd.quoting.ladder import LinearLadder
from makerd.quoting.skew import InventorySkew
from makerd.venues.paper import PaperExchange
from tests.kit import BTC, MS, STALE_AFTER_NS, T0, book, d, of_type, position

LATER = 100 * MS  # past the paper venue's entry and acknowledgement latencies


def snapshot(bid: str, ask: str, ts: int) -> BookSnapshotReceived:
    return BookSnapshotReceived(
        coin="BTC",
        bids=(BookLevel(price=d(bid), size=d(1)),),
        asks=(BookLevel(price=d(ask), size=d(1)),),
        ts_exchange=ts,
        ts_local=ts,
    )


def take(side: Side, price: str, ts: int) -> PlaceOrders:
    request = OrderRequest(
        cloid=f"0x{ts:032x}",
        coin="BTC",
        side=side,
        price=d(price),
        size=d("0.1"),
        tif=TimeInForce.IMMEDIATE_OR_CANCEL,
    )
    return PlaceOrders(orders=(request,), ts_local=ts)


def margin_at(venue: PaperExchange, ts: int) -> MarginReported:
    venue.submit(RequestMargin(ts_local=ts), ts)
    reports: list[MarginReported] = of_type(venue.advance(ts + LATER), MarginReported)
    assert len(reports) == 1
    return reports[0]


def test_the_paper_venue_reports_margin_from_its_position_mark_leverage_and_account() -> None:
    config = PaperConfig(account_value_usd=d(1000), leverage=10)
    venue = PaperExchange(BTC, config, id_prefix="margin")
    venue.on_market(snapshot("60000", "60001", T0))
    venue.submit(take(Side.BUY, "60001", T0), T0)  # 0.1 BTC taken at 60001
    venue.advance(T0 + LATER)
    venue.on_market(snapshot("59000", "59002", T0 + 2 * LATER))  # the mid falls to 59001

    long = margin_at(venue, T0 + 3 * LATER)
    venue.submit(take(Side.SELL, "59000", T0 + 5 * LATER), T0 + 5 * LATER)
    venue.advance(T0 + 6 * LATER)
    flat = margin_at(venue, T0 + 7 * LATER)

    buy_fee = d("0.1") * 60001 * config.taker_fee_rate
    sell_fee = d("0.1") * 59000 * config.taker_fee_rate
    assert long.margin_used == d("590.01"), "0.1 x 59001 / 10"
    assert long.account_value == 1000 - buy_fee - 100, "marked to the mid: 100 USD down"
    assert flat.margin_used == 0
    assert flat.account_value == 1000 - buy_fee - sell_fee - d("100.1"), "the loss realized"
    assert flat.use == 0


def margin_quoter() -> QuoterLogic:
    model = LinearLadder(
        levels=1,
        order_size=0.002,
        base_distance=3.0,
        level_step=2.0,
        skew=InventorySkew(price_skew_bps=4.0, margin_urgency=1.0),
    )
    return QuoterLogic(
        instrument=BTC,
        model=model,
        estimators=build_estimators(MakerdConfig(), started_ns=T0),
        max_position=Decimal("0.05"),
        min_requote_interval_ns=0,
        stale_after_ns=STALE_AFTER_NS,
    )


def test_margin_in_use_makes_a_long_quoter_lean_harder_towards_selling() -> None:
    quoter = margin_quoter()
    quoter.handle(book("59999", "60001", ts=T0))
    [calm] = of_type(quoter.handle(position("0.03", ts=T0 + MS)), QuoteTarget)

    quoter.handle(
        MarginReported(account_value=d(100), margin_used=d(90), ts_exchange=T0, ts_local=T0)
    )
    [tight] = of_type(quoter.handle(book("59999", "60001", ts=T0 + 2 * MS)), QuoteTarget)

    assert tight.asks[0].price < calm.asks[0].price, "a cheaper offer sheds the position sooner"
    bid_size = sum((level.size for level in tight.bids), Decimal(0))
    assert bid_size < calm.bids[0].size, "and bids less (here: none) of what it holds too much of"


def test_in_the_sim_the_modelled_account_turns_quoting_reduce_only_past_the_soft_limit(
    tmp_path: Path,
) -> None:
    base = MakerdConfig()
    config = dataclasses.replace(
        base,
        # 1000 USD at 1x: one 0.002 BTC fill (about 120 USD) uses 12% of the account, and
        # the ladder's six orders (720 USD) fit beside it, as the venue's margin check wants.
        paper=dataclasses.replace(base.paper, account_value_usd=d(1000), leverage=1),
        risk=dataclasses.replace(
            base.risk, margin_soft_at=d("0.1"), margin_hard_at=d(2), margin_poll_s=0.5
        ),
    )
    seen: list[object] = []

    run_simulated(config, seconds=120, state_dir=tmp_path, watch=seen.append)

    reports = of_type(seen, MarginReported)
    soft = [
        change
        for change in of_type(seen, RiskStateChanged)
        if change.state is TradingState.REDUCE_ONLY and RiskLimit.MARGIN_RATIO in change.limits
    ]
    assert len(reports) >= 200, "asked every half second"
    assert soft, "the margin limit acted on the venue's own report"
    assert "margin use 0.1" in soft[0].reason
