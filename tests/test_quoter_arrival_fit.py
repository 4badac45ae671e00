"""The quoter fits the trade arrival (A, κ) only for a model that reads it: a model that
does not quotes exactly as it would with the fit made and handed to it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from makerd.actors.quoter import QuoterEstimators, QuoterLogic
from makerd.config.model import MakerdConfig
from makerd.daemon.wiring import build_estimators
from makerd.protocol.market import TradePrinted, TradesPrinted
from makerd.protocol.side import Side
from makerd.quoting.avellaneda_stoikov import AvellanedaStoikovModel
from makerd.quoting.base import QuoteInputs, QuoteModel, RawLadder, reads_arrival
from makerd.quoting.glft import GlftModel
from makerd.quoting.ladder import GeometricLadder, GridLadder, LinearLadder
from makerd.quoting.markout import WidenedModel
from makerd.quoting.signals import BookSignal, SignalAdjustedModel
from makerd.quoting.symmetric import SymmetricLadder
from tests.kit import BTC, MS, STALE_AFTER_NS, T0, book, position

LADDER = SymmetricLadder(
    levels=3, first_level_bps=3.0, level_spacing_bps=2.0, order_size=0.002, inventory_skew_bps=4
)


@dataclass
class Watching:
    """Passes quoting to ``inner`` and keeps the arrival each quote was handed."""

    inner: QuoteModel
    READS_ARRIVAL: bool
    arrivals: list[tuple[float | None, float | None]] = field(default_factory=list)

    def quote(self, inputs: QuoteInputs) -> RawLadder:
        self.arrivals.append((inputs.arrival_a_per_s, inputs.arrival_kappa_per_bps))
        return self.inner.quote(inputs)


def quoter(model: QuoteModel, estimators: QuoterEstimators | None = None) -> QuoterLogic:
    return QuoterLogic(
        instrument=BTC,
        model=model,
        estimators=estimators or build_estimators(MakerdConfig(), started_ns=T0),
        max_position=Decimal("0.05"),
        min_requote_interval_ns=250 * MS,
        stale_after_ns=STALE_AFTER_NS,
    )


def market(seconds: int) -> list[object]:
    """Books every 100 ms around a wandering mid, five trades a second, a position now and then."""
    rng = random.Random(5)
    mid = 60_000
    messages: list[object] = []
    for step in range(seconds * 10):
        ts = T0 + step * 100 * MS
        mid += rng.choice((-2, -1, 0, 0, 1, 2))
        messages.append(book(str(mid - 1), str(mid + 1), ts=ts))
        if step % 2 == 0:
            side = rng.choice((Side.BUY, Side.SELL))
            price = Decimal(mid + rng.randint(-30, 30))
            trade = TradePrinted(
                coin="BTC",
                side=side,
                price=price,
                size=Decimal("0.01"),
                trade_id=str(step),
                ts_exchange=ts,
                ts_local=ts,
            )
            messages.append(TradesPrinted(coin="BTC", trades=(trade,), ts_local=ts))
        if step % 97 == 0:
            messages.append(position(str(Decimal(rng.randint(-40, 40)) / 1000), ts=ts))
    return messages


def test_a_ladder_quotes_the_same_without_the_fit_as_with_it() -> None:
    fitted = Watching(inner=LADDER, READS_ARRIVAL=True)
    skipped = Watching(inner=LADDER, READS_ARRIVAL=False)
    with_fit, without_fit = quoter(fitted), quoter(skipped)

    for message in market(seconds=120):
        assert without_fit.handle(message) == with_fit.handle(message)

    assert any(a is not None for a, _ in fitted.arrivals), "the fit was trusted at some point"
    assert set(skipped.arrivals) == {(None, None)}
    assert len(skipped.arrivals) == len(fitted.arrivals) > 300


def test_only_the_models_that_price_from_the_arrival_ask_for_its_fit() -> None:
    reading = Watching(inner=LADDER, READS_ARRIVAL=True)
    signal = BookSignal()

    assert reads_arrival(WidenedModel(inner=SignalAdjustedModel(inner=reading, signal=signal)))
    assert not reads_arrival(WidenedModel(inner=SignalAdjustedModel(inner=LADDER, signal=signal)))
    for kind in (SymmetricLadder, GeometricLadder, LinearLadder, GridLadder):
        assert getattr(kind, "READS_ARRIVAL", True) is False, kind.__name__
    for reader in (GlftModel, AvellanedaStoikovModel):
        assert getattr(reader, "READS_ARRIVAL", True) is True, reader.__name__


def test_without_fits_the_trades_still_leave_the_window() -> None:
    fitted_estimators = build_estimators(MakerdConfig(), started_ns=T0)
    skipped_estimators = build_estimators(MakerdConfig(), started_ns=T0)
    with_fit = quoter(Watching(inner=LADDER, READS_ARRIVAL=True), fitted_estimators)
    without_fit = quoter(LADDER, skipped_estimators)

    messages = market(seconds=25 * 60)  # five trades a second; the window is ten minutes
    for message in messages:
        with_fit.handle(message)
        without_fit.handle(message)

    fitted, skipped = fitted_estimators.intensity, skipped_estimators.intensity
    assert 2900 <= skipped.trades_held <= 3010, "ten minutes of trades, not twenty-five"
    end = T0 + 25 * 60 * 1000 * MS
    fitted.evict(end)
    skipped.evict(end)
    assert skipped.trades_held == fitted.trades_held
