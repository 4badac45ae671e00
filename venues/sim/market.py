"""The embedded synthetic market: a seeded, reproducible stream of books and trades.

Time advances in fixed steps of ``step_ns``. In the step that ends at ``t``: market orders
arrive at random instants after the previous step and trade through the book published
at the previous step (one :class:`TradePrinted` per level hit), then the mid moves
(diffusion, jumps, drift and the impact of that flow), the book re-anchors around the new
mid, and a :class:`BookSnapshotReceived` is published at ``t``. Every draw comes from one
``numpy`` generator in a fixed order, so the stream depends only on the seed, the
scenario, the start and the step — never on how often :meth:`step_until` is called.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from makerd.config.model import Scenario
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookLevel, BookSnapshotReceived, TradePrinted
from makerd.protocol.side import Side
from makerd.venues.sim.depth import DepthSide
from makerd.venues.sim.price import CommonFactor, MidProcess
from makerd.venues.sim.scenarios import scenario_params

PUBLISHED_LEVELS = 20
"""Levels per side in each snapshot, as Hyperliquid's ``l2Book`` sends."""

_TOUCH_HALF_SPREAD_TICKS = 0.25
"""Touches sit at floor(mid - 0.25 tick) and ceil(mid + 0.25 tick): a 1–2 tick spread."""

_GRID_HEADROOM = 1.01
"""The price grid uses the tick of a price 1% above the mid, so every level is legal."""

MarketEvent = BookSnapshotReceived | TradePrinted


class SyntheticMarket:
    """A single-coin synthetic market; see the module docstring for the step."""

    def __init__(
        self,
        instrument: Instrument,
        *,
        scenario: Scenario,
        seed: int,
        start_price: Decimal,
        step_ns: int,
        start_ns: int,
        common: CommonFactor | None = None,
    ) -> None:
        if step_ns <= 0:
            raise ValueError(f"step_ns must be positive, got {step_ns}")
        params = scenario_params(scenario)
        self._instrument = instrument
        self._params = params
        self._rng = np.random.default_rng(seed)
        self._step_ns = step_ns
        self._step_s = step_ns / 1e9
        self._next_step_ns = start_ns
        self._trade_count = 0
        self._lot_size = float(instrument.lot)
        self._price = MidProcess(
            params,
            rng=self._rng,
            start_price=float(start_price),
            step_s=self._step_s,
            common=common,
        )
        self._tick = self._grid_tick(self._price.mid)
        self._tick_float = float(self._tick)
        bid_touch, ask_touch = self._touches(self._price.mid)
        self._bids = self._new_side(sign=-1, touch_index=bid_touch)
        self._asks = self._new_side(sign=1, touch_index=ask_touch)
        self._started = False
        self._published: dict[tuple[int, int], BookLevel] = {}
        """Levels of the last snapshot by (price index, lots), reused when unchanged."""

    @property
    def mid(self) -> Decimal:
        """The true mid after the last step (not on the tick grid)."""
        return Decimal(repr(self._price.mid))

    @property
    def volatility_bps(self) -> float:
        """The current instantaneous volatility, bps per square-root second."""
        return self._price.volatility_bps

    def step_until(self, now_ns: int) -> list[MarketEvent]:
        """Run every step whose time is at or before ``now_ns``; return their events."""
        events: list[MarketEvent] = []
        while self._next_step_ns <= now_ns:
            if self._started:
                self._step(self._next_step_ns, events)
            self._started = True
            events.append(self._snapshot(self._next_step_ns))
            self._next_step_ns += self._step_ns
        return events

    def _new_side(self, *, sign: int, touch_index: int) -> DepthSide:
        return DepthSide(
            sign=sign,
            touch_index=touch_index,
            rng=self._rng,
            median_lots=self._params.depth_median_size / self._lot_size,
            growth=self._params.depth_growth,
            fill_probability=self._params.level_fill_probability,
        )

    def _step(self, step_end_ns: int, events: list[MarketEvent]) -> None:
        signed_volume = self._taker_flow(step_end_ns - self._step_ns, events)
        mid = self._price.step(signed_volume)
        tick = self._grid_tick(mid)
        if tick != self._tick:
            self._regrid(tick)
        bid_touch, ask_touch = self._touches(mid)
        self._bids.move_touch(bid_touch)
        self._asks.move_touch(ask_touch)
        self._bids.churn()
        self._asks.churn()

    def _taker_flow(self, step_start_ns: int, events: list[MarketEvent]) -> float:
        """Market orders during one step trade through the book; return signed volume."""
        params = self._params
        arrivals = int(self._rng.poisson(params.taker_rate_per_s * self._step_s))
        if arrivals == 0:
            return 0.0
        instants = np.sort(self._rng.random(arrivals))
        buys = self._rng.random(arrivals) < self._price.buy_share
        sizes = params.taker_median_size * np.exp(
            params.taker_size_sigma * self._rng.standard_normal(arrivals)
        )
        signed_volume = 0.0
        for instant, is_buy, size in zip(
            instants.tolist(), buys.tolist(), sizes.tolist(), strict=True
        ):
            lots = max(1, int(size / self._lot_size))
            side = Side.BUY if is_buy else Side.SELL
            ts = step_start_ns + max(1, int(instant * self._step_ns))
            traded = self._market_order(side, lots, ts, events)
            signed_volume += side.sign * traded * self._lot_size
        return signed_volume

    def _market_order(self, side: Side, lots: int, ts: int, events: list[MarketEvent]) -> int:
        book_side = self._asks if side is Side.BUY else self._bids
        traded = 0
        for offset, hit_lots in book_side.take(lots):
            self._trade_count += 1
            traded += hit_lots
            events.append(
                TradePrinted(
                    coin=self._instrument.coin,
                    side=side,
                    price=self._price_of(book_side.price_index(offset)),
                    size=self._size_of(hit_lots),
                    trade_id=str(self._trade_count),
                    ts_exchange=ts,
                    ts_local=ts,
                )
            )
        return traded

    def _snapshot(self, ts: int) -> BookSnapshotReceived:
        published: dict[tuple[int, int], BookLevel] = {}
        bids = self._levels(self._bids.visible(PUBLISHED_LEVELS), published)
        asks = self._levels(self._asks.visible(PUBLISHED_LEVELS), published)
        self._published = published
        return BookSnapshotReceived(
            coin=self._instrument.coin, bids=bids, asks=asks, ts_exchange=ts, ts_local=ts
        )

    def _levels(
        self, visible: list[tuple[int, int]], published: dict[tuple[int, int], BookLevel]
    ) -> tuple[BookLevel, ...]:
        # Most levels are unchanged since the previous snapshot: reusing those immutable
        # objects instead of building Decimals again halves the cost of a step.
        levels = []
        for key in visible:
            level = self._published.get(key)
            if level is None:
                index, lots = key
                level = BookLevel(price=self._price_of(index), size=self._size_of(lots))
            published[key] = level
            levels.append(level)
        return tuple(levels)

    def _price_of(self, index: int) -> Decimal:
        return Decimal(index) * self._tick

    def _size_of(self, lots: int) -> Decimal:
        return Decimal(lots).scaleb(-self._instrument.sz_decimals)

    def _touches(self, mid: float) -> tuple[int, int]:
        ticks = mid / self._tick_float
        return (
            math.floor(ticks - _TOUCH_HALF_SPREAD_TICKS),
            math.ceil(ticks + _TOUCH_HALF_SPREAD_TICKS),
        )

    def _grid_tick(self, mid: float) -> Decimal:
        # Ticks only grow with the price, and a coarse tick's multiples are legal at every
        # lower magnitude, so one grid tick taken above the book keeps every level legal.
        return self._instrument.tick_at(Decimal(repr(mid * _GRID_HEADROOM)))

    def _regrid(self, tick: Decimal) -> None:
        """The price crossed a power of ten: rescale touch indices onto the new tick."""
        scale = float(self._tick / tick)
        self._bids.touch_index = math.floor(self._bids.touch_index * scale)
        self._asks.touch_index = math.ceil(self._asks.touch_index * scale)
        self._tick = tick
        self._tick_float = float(tick)
        self._published = {}
