"""Synthetic background liquidity and taker flow, so a local book looks and trades alive.

Each step the mid of every coin takes a seeded random-walk step; the synthetic depth
(``levels_per_side`` levels each side) is withdrawn and re-posted around the new mid.
Before re-posting, resting user orders that the new synthetic touch would cross are
filled by a synthetic taker at their own price — the market moved through them — so the
book never shows a synthetic level crossing a user order. Then, with some probability per
coin, a synthetic taker sweeps from the touch: user orders at the touch, older than the
freshly re-posted synthetic ones, are filled first (price-time priority).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal

from makerd.protocol.instrument import Instrument
from makerd.protocol.side import Side
from makerd.venues.hl_local.engine import MatchingEngine

SWEEP_ALL = Decimal("1e12")
TAKER_PRICE_BAND = Decimal("0.01")
DEFAULT_TAKER_PROBABILITY = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class LiquidityConfig:
    """Shape of the synthetic market; the defaults give a liquid, gently moving book."""

    levels_per_side: int = 20
    level_spacing_bps: float = 0.5
    step_volatility_bps: float = 0.5
    level_notional_usd: tuple[float, float] = (2_000.0, 20_000.0)
    taker_probability: float = DEFAULT_TAKER_PROBABILITY
    taker_notional_usd: tuple[float, float] = (100.0, 2_000.0)


class SyntheticLiquidity:
    """Drives the background market of every coin on the engine."""

    def __init__(
        self, engine: MatchingEngine, config: LiquidityConfig, *, seed: int | None
    ) -> None:
        self._engine = engine
        self._config = config
        self._rng = random.Random(seed)
        self._mids = {perp.coin: float(perp.start_mid) for perp in engine.universe.perps}

    def step(self) -> None:
        """One tick: walk the mids, re-post depth, maybe send background takers."""
        for coin in self._mids:
            shock = self._rng.gauss(0.0, self._config.step_volatility_bps / 10_000)
            self._mids[coin] *= math.exp(shock)
            self.refresh(coin)
            if self._rng.random() < self._config.taker_probability:
                self._take(coin)

    def jump(self, pct: Decimal, coin: str | None = None) -> None:
        """Move the mid of ``coin`` (or every coin) by ``pct`` percent at once."""
        for name in [coin] if coin is not None else list(self._mids):
            self._mids[name] *= 1 + float(pct) / 100
            self.refresh(name)

    def refresh(self, coin: str) -> None:
        """Withdraw and re-post the synthetic depth of ``coin`` around its current mid."""
        engine = self._engine
        instrument = self._instrument(coin)
        best_bid, best_ask, step = self._touch(instrument, self._mids[coin])
        engine.clear_synthetic(coin)
        book = engine.books[coin]
        user_bid, user_ask = book.best_bid(), book.best_ask()
        if user_bid is not None and user_bid >= best_ask:
            engine.synthetic_take(coin, is_buy=False, limit_px=best_ask, size=SWEEP_ALL)
        if user_ask is not None and user_ask <= best_bid:
            engine.synthetic_take(coin, is_buy=True, limit_px=best_bid, size=SWEEP_ALL)
        low, high = self._config.level_notional_usd
        for level in range(self._config.levels_per_side):
            for is_buy, touch in ((True, best_bid), (False, best_ask)):
                raw = touch - step * level if is_buy else touch + step * level
                if raw <= 0:
                    continue
                price = instrument.round_price(raw, Side.BUY if is_buy else Side.SELL)
                size = self._size(instrument, price, low, high)
                engine.rest_synthetic(coin, is_buy=is_buy, price=price, size=size)

    def _take(self, coin: str) -> None:
        instrument = self._instrument(coin)
        mid = Decimal(repr(self._mids[coin]))
        is_buy = self._rng.random() < 0.5
        low, high = self._config.taker_notional_usd
        size = self._size(instrument, mid, low, high)
        band = TAKER_PRICE_BAND * mid
        limit = mid + band if is_buy else mid - band
        self._engine.synthetic_take(coin, is_buy=is_buy, limit_px=limit, size=size)

    def _touch(self, instrument: Instrument, mid_float: float) -> tuple[Decimal, Decimal, Decimal]:
        mid = Decimal(repr(mid_float))
        tick = instrument.tick_at(mid)
        spacing = mid * Decimal(repr(self._config.level_spacing_bps)) / 10_000
        step = max(tick, (spacing / tick).to_integral_value() * tick)
        best_bid = instrument.round_price(mid - step / 2, Side.BUY)
        best_ask = instrument.round_price(mid + step / 2, Side.SELL)
        if best_ask <= best_bid:
            best_ask = instrument.round_price(best_bid + tick, Side.SELL)
        return best_bid, best_ask, step

    def _size(self, instrument: Instrument, price: Decimal, low: float, high: float) -> Decimal:
        notional = Decimal(repr(self._rng.uniform(low, high)))
        return max(instrument.lot, instrument.round_size(notional / price))

    def _instrument(self, coin: str) -> Instrument:
        perp = self._engine.universe.by_coin(coin)
        if perp is None:
            raise KeyError(coin)
        return perp.instrument
