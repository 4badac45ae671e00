"""quoter: turns the book, the position and the risk state into a :class:`QuoteTarget`.

It owns nothing durable: after a restart the next book, position and risk messages
rebuild everything it needs. The model does the math in floats; :func:`legalize` makes
the result exact and exchange-legal before it leaves this actor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from makerd.actors.quote_sampler import QuoteSampler
from makerd.config.model import OrderManagerConfig, QuotingConfig
from makerd.protocol.account import FillBooked, PositionChanged
from makerd.protocol.clock import still_waiting
from makerd.protocol.control import ParametersChanged, TimerFired
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookUpdated, FeedRecovered, FeedStale, TradesPrinted
from makerd.protocol.orders import QuoteLevel, QuoteLevelsRefused, QuoteTarget
from makerd.protocol.risk import MarginReported, RiskStateChanged, TradingState
from makerd.quoting.base import QuoteInputs, QuoteModel, reads_arrival
from makerd.quoting.intensity import TradeIntensityEstimator
from makerd.quoting.legalize import legalize
from makerd.quoting.markout import AdverseSelectionGuard
from makerd.quoting.volatility import VolatilityEstimator

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000
BPS = Decimal("0.0001")


@dataclass(slots=True, kw_only=True)
class QuoterEstimators:
    """Online calibration the quoter feeds from the market; rebuilt fresh on restart."""

    volatility: VolatilityEstimator
    intensity: TradeIntensityEstimator
    markout: AdverseSelectionGuard | None


class QuoterLogic:
    def __init__(
        self,
        *,
        instrument: Instrument,
        model: QuoteModel,
        estimators: QuoterEstimators,
        max_position: Decimal,
        min_requote_interval_ns: int,
        stale_after_ns: int,
        max_position_usd: Decimal = Decimal(0),
        rebuild_model: Callable[[QuotingConfig], QuoteModel] | None = None,
        session_s: float = 0.0,
        sampler: QuoteSampler | None = None,
        urgent_move_bps: Decimal | None = None,
    ) -> None:
        """``rebuild_model`` turns a reloaded quoting section into a model (SIGHUP);
        ``sampler`` keeps our quotes against the touch for the session report.
        ``stale_after_ns`` (``feed.stale_after_s``) is the oldest book, by when we heard
        it, that prices are taken from; an older one pulls the quotes.
        ``max_position_usd`` (0: none), when tighter at the mid than ``max_position``, is
        the limit the inventory skew leans against, as the risk guardian judges both.

        A book whose mid moved more than ``urgent_move_bps`` from the mid of the last
        target is quoted at once, however recent that target: the widest price-tolerance
        slack the order manager gives a resting order, so such a move leaves the first
        levels out of place (a smaller one is a wiggle, which the refresh interval
        batches; a deep level's depth slack may still keep its order). ``None``: every
        book waits for ``min_requote_interval_ns``.
        """
        self._instrument = instrument
        self._model = model
        self._reads_arrival = reads_arrival(model)
        self._max_position = max_position
        self._max_position_usd = max_position_usd
        self._min_requote_interval_ns = min_requote_interval_ns
        self._stale_after_ns = stale_after_ns
        self._urgent_move = None if urgent_move_bps is None else urgent_move_bps * BPS
        self._quoted_mid: Decimal | None = None
        self._rebuild_model = rebuild_model
        self._session_ns = int(session_s * NS_PER_S)
        self._estimators = estimators
        self._widening = 1.0
        self._book: BookUpdated | None = None
        self._position = Decimal(0)
        self._state = TradingState.NORMAL
        self._margin_use = 0.0
        self._feed_stale = False
        self._last_quote_ns = 0
        self._last_target: QuoteTarget | None = None
        self._sampler = sampler
        self._handlers = self._build_handlers()

    @property
    def spread_widening(self) -> float:
        """The markout guard's factor as of the last book (1: no widening, or no guard)."""
        return self._widening

    def stop(self) -> None:
        """The actor stops: the samples not yet written go to the journal."""
        if self._sampler is not None:
            self._sampler.flush()

    def handled_types(self) -> frozenset[type]:
        return frozenset(self._handlers)

    def handle(self, message: object) -> list[object]:
        handler = self._handlers.get(type(message))
        sent = handler(message) if handler is not None else []
        if self._sampler is not None:
            self._sampler.observe(message, sent, self._book)
        return sent

    def _build_handlers(self) -> dict[type, Callable[[Any], list[object]]]:
        return {
            BookUpdated: self._on_book,
            PositionChanged: self._on_position,
            RiskStateChanged: self._on_risk_state,
            MarginReported: self._on_margin,
            FeedStale: self._on_feed_stale,
            FeedRecovered: self._on_feed_recovered,
            TradesPrinted: self._on_trades,
            ParametersChanged: self._on_parameters,
            FillBooked: self._on_fill_booked,
            TimerFired: lambda m: self._requote(m.ts_local, force=False),
        }

    def _on_book(self, book: BookUpdated) -> list[object]:
        self._book = book
        mid = book.mid
        if mid is not None:
            self._estimators.volatility.observe(float(mid), book.ts_exchange)
            if self._estimators.markout is not None:
                self._widening = self._estimators.markout.observe_mid(float(mid), book.ts_exchange)
        return self._requote(book.ts_local, force=self._moved_urgently(mid))

    def _moved_urgently(self, mid: Decimal | None) -> bool:
        """A jump must not wait out the refresh interval: the orders it leaves behind are
        the ones a fast taker picks off."""
        quoted, urgent = self._quoted_mid, self._urgent_move
        if mid is None or quoted is None or urgent is None:
            return False
        return abs(mid - quoted) > quoted * urgent

    def _on_parameters(self, changed: ParametersChanged) -> list[object]:
        if self._rebuild_model is not None:
            self._model = self._rebuild_model(changed.quoting)
            self._reads_arrival = reads_arrival(self._model)
        self._max_position = changed.risk.max_position
        self._max_position_usd = changed.risk.max_position_usd
        self._min_requote_interval_ns = changed.quoting.refresh_interval_ms * NS_PER_MS
        if self._urgent_move is not None:
            self._urgent_move = urgent_move_bps(changed.order_manager) * BPS
        self._session_ns = int(changed.quoting.session_s * NS_PER_S)
        return self._requote(changed.ts_local, force=True)

    def _on_trades(self, printed: TradesPrinted) -> list[object]:
        """Each trade's distance from the mid feeds the arrival fit."""
        mid = self._book.mid if self._book is not None else None
        if mid is not None:
            for trade in printed.trades:
                self._estimators.intensity.record_trade(
                    price=float(trade.price), mid=float(mid), ts_ns=trade.ts_exchange
                )
        return []

    def _on_fill_booked(self, booked: FillBooked) -> list[object]:
        if self._estimators.markout is not None:
            fill = booked.fill
            self._estimators.markout.record_fill(fill.side, fill.price, fill.ts_exchange)
        return []

    def _on_position(self, message: PositionChanged) -> list[object]:
        changed = message.position != self._position
        self._position = message.position
        return self._requote(message.ts_local, force=changed)

    def _on_risk_state(self, message: RiskStateChanged) -> list[object]:
        self._state = message.state
        return self._requote(message.ts_local, force=True)

    def _on_margin(self, margin: MarginReported) -> list[object]:
        """Margin use reaches the models' skew urgency from the next quote on."""
        self._margin_use = float(margin.use)
        return []

    def _on_feed_stale(self, message: FeedStale) -> list[object]:
        self._feed_stale = True
        return [self._empty_target(message.ts_local)]

    def _on_feed_recovered(self, message: FeedRecovered) -> list[object]:
        self._feed_stale = False
        return []

    def _requote(self, now_ns: int, *, force: bool) -> list[object]:
        if self._book is None:
            return []
        if not force and still_waiting(now_ns, self._last_quote_ns, self._min_requote_interval_ns):
            return []
        self._last_quote_ns = now_ns
        if (
            self._feed_stale
            or self._state is TradingState.HALTED
            or self._too_old(self._book, now_ns)
        ):
            return [self._empty_target(now_ns)]
        target, refused = self._target(self._book, now_ns)
        self._quoted_mid = self._book.mid
        self._last_target = target
        if not refused:
            return [target]
        return [QuoteLevelsRefused(coin=target.coin, reasons=refused, ts_local=now_ns), target]

    def _too_old(self, book: BookUpdated, now_ns: int) -> bool:
        """The book_feed's stale rule, judged at the moment prices are taken. After the
        process was frozen (SIGSTOP, a paused VM), every timer fires at once: the book
        held from before the freeze priced bids above the venue's best ask before the
        book_feed's own tick could say the feed was stale. Judged by our clock alone: a
        book printed long before it was heard (the kernel's buffer handed over after the
        freeze) never gets here, the book_feed drops it as late; and the exchange's
        stamp against our clock is the hosts' offset, not an age (a host a minute ahead
        never quoted)."""
        return now_ns - book.ts_local > self._stale_after_ns

    def _inventory_limit(self, mid: Decimal) -> Decimal:
        """The position limit in base units at ``mid``: the tighter of the two limits, so
        a coin bound by its USD limit is skewed before the guardian turns it reduce-only."""
        if self._max_position_usd <= 0 or mid <= 0:
            return self._max_position
        return min(self._max_position, self._max_position_usd / mid)

    def _target(self, book: BookUpdated, now_ns: int) -> tuple[QuoteTarget, tuple[str, ...]]:
        """The target, and the reasons any model levels were refused by the rules."""
        mid = book.mid
        if mid is None:
            return self._empty_target(now_ns), ()
        a_per_s, kappa_per_bps = self._arrival(book.ts_exchange)
        inputs = QuoteInputs(
            mid=float(mid),
            best_bid=float(book.bids[0].price),
            best_ask=float(book.asks[0].price),
            bid_size_top=float(book.bids[0].size),
            ask_size_top=float(book.asks[0].size),
            inventory=float(self._position),
            max_inventory=float(self._inventory_limit(mid)),
            volatility=self._estimators.volatility.volatility,
            tick_size=float(self._instrument.tick_at(mid)),
            arrival_a_per_s=a_per_s,
            arrival_kappa_per_bps=kappa_per_bps,
            spread_widening=self._widening,
            time_remaining_s=self._time_remaining_s(book.ts_exchange),
            margin_use=self._margin_use,
        )
        legal = legalize(
            self._model.quote(inputs),
            self._instrument,
            best_bid=book.best_bid,
            best_ask=book.best_ask,
        )
        bids, asks = legal.bids, legal.asks
        if self._state is TradingState.REDUCE_ONLY:
            bids, asks = self._reducing_only(bids, asks)
        target = QuoteTarget(
            coin=self._instrument.coin,
            bids=bids,
            asks=asks,
            book_ts_local=book.ts_local,
            ts_local=now_ns,
        )
        return target, legal.problems

    def _arrival(self, ts_ns: int) -> tuple[float | None, float | None]:
        """The fitted A and κ, or None while the fit is not trusted (the model's configured
        ones stand) or the model does not read them (then no fit is made)."""
        if not self._reads_arrival:
            # The trades are still recorded (a reload may bring a model that reads them)
            # and must leave the window as a fit would drop them.
            self._estimators.intensity.evict(ts_ns)
            return None, None
        arrival = self._estimators.intensity.estimate(ts_ns)
        if not arrival.calibrated:
            return None, None
        return arrival.a_per_s, arrival.kappa_per_bps

    def _time_remaining_s(self, ts_ns: int) -> float | None:
        """Seconds to the end of the current UTC-aligned session (None: no sessions)."""
        if self._session_ns <= 0:
            return None
        return (self._session_ns - ts_ns % self._session_ns) / NS_PER_S

    def _reducing_only(
        self, bids: tuple[QuoteLevel, ...], asks: tuple[QuoteLevel, ...]
    ) -> tuple[tuple[QuoteLevel, ...], tuple[QuoteLevel, ...]]:
        """Keep only the side that shrinks the position, no larger than the position."""
        if self._position > 0:
            return (), _clip(asks, self._position, self._instrument)
        if self._position < 0:
            return _clip(bids, -self._position, self._instrument), ()
        return (), ()

    def _empty_target(self, now_ns: int) -> QuoteTarget:
        book_ts = self._book.ts_local if self._book is not None else now_ns
        return QuoteTarget(
            coin=self._instrument.coin, bids=(), asks=(), book_ts_local=book_ts, ts_local=now_ns
        )


def _clip(
    levels: tuple[QuoteLevel, ...], budget: Decimal, instrument: Instrument
) -> tuple[QuoteLevel, ...]:
    clipped: list[QuoteLevel] = []
    remaining = budget
    for level in levels:
        size = instrument.round_size(min(level.size, remaining))
        if size <= 0:
            break
        clipped.append(QuoteLevel(price=level.price, size=size))
        remaining -= size
    return tuple(clipped)


def urgent_move_bps(config: OrderManagerConfig) -> Decimal:
    """A mid move beyond the widest slack of an order *ahead* of its level: the side the
    mid moved toward is then out of place, and those orders are the ones a move runs
    over. Orders left *behind* their level (``behind_tolerance_factor``) are safe and
    wait for the refresh interval; a level far from the centre may have a wider depth
    slack (see :mod:`actors.order_diff`)."""
    return config.price_tolerance_bps * config.queue_hold_factor
