"""risk_guardian: the only actor that may halt trading.

NORMAL → REDUCE_ONLY (a limit near its hard value, see :mod:`actors.risk_limits`) →
HALTED (a kill switch). A kill switch closes the trading gate, then writes a latch to disk
before anything else happens, so neither a crash nor a restart can resume trading until an
operator clears it; a latch that cannot be written still stops this run, and says so.
The price band (:mod:`actors.price_band`) and the exchange's halt of the coin
(:mod:`actors.refusal_hold`) are the HALTED that pass: they hold quoting for a while without
the latch, and the guardian returns to the state its limits ask for.
The guardian asks the venue for the account's margin every ``risk.margin_poll_s``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from makerd.actors.gate import TradingGate
from makerd.actors.price_band import BandSettings, PriceBand
from makerd.actors.refusal_hold import MarketHolds
from makerd.actors.risk_account import RiskAccount
from makerd.actors.risk_limits import Verdict, judge, readings
from makerd.actors.route_switch import RouteSwitch
from makerd.config.model import RiskConfig
from makerd.protocol.account import FillBooked, PositionChanged
from makerd.protocol.clock import still_waiting
from makerd.protocol.control import ParametersChanged, TimerFired
from makerd.protocol.market import BookUpdated, FeedRecovered, FeedStale
from makerd.protocol.orders import ModifyRejected, OrderRejected, RequestMargin
from makerd.protocol.rejections import RejectReason
from makerd.protocol.risk import (
    KillReason,
    KillSwitchTripped,
    MarginReported,
    PersistedRisk,
    RiskLimit,
    RiskStateChanged,
    TradingState,
)

log = logging.getLogger("makerd.risk")
NS_PER_S = 1_000_000_000
# A post-only order refused for crossing is the ordinary cost of quoting at the touch
# in a fast market; the next quote cycle re-prices it, so it is no sign of a loop. A
# rate-limit refusal pauses new risk in the order manager (a storm of them is the pause
# working), and the closed trading gate refuses by design while stopping.
_STORM_EXEMPT = frozenset(
    {
        RejectReason.POST_ONLY_WOULD_CROSS,
        RejectReason.RATE_LIMITED,
        RejectReason.STOPPING,
        RejectReason.EXPIRED,  # a slow exchange, not a broken order: the order never existed
    }
)


class KillSwitchStore(Protocol):
    def trip(self, *, reason: str, detail: str, ts_ns: int) -> None: ...


class RiskStateStore(Protocol):
    """Where the risk state outlives the process (the journal)."""

    def load_risk_state(self) -> PersistedRisk | None: ...

    def save_risk_state(self, state: PersistedRisk) -> None: ...


class RiskGuardianLogic:
    def __init__(
        self,
        *,
        config: RiskConfig,
        latch: KillSwitchStore,
        gate: TradingGate | None = None,
        store: RiskStateStore | None = None,
        books: RouteSwitch | None = None,
    ) -> None:
        """``books`` is the route of books to this guardian: off while it ignores them."""
        self._config = config
        self._latch = latch
        self._gate = gate or TradingGate()
        self._store = store
        self.state = TradingState.NORMAL
        self.tripped: KillReason | None = None
        self.account = RiskAccount(store.load_risk_state() if store is not None else None)
        self._stale_since: tuple[int, int | None] | None = None
        """When the feed fell silent: (wall, monotonic) ns. The silence is read on the
        monotonic clock where the timer has it too, else on the wall clock."""
        self._position: PositionChanged | None = None
        self._margin: MarginReported | None = None
        self._margin_asked_ns = 0
        self._band = PriceBand()
        self._band_reason = ""
        self._holds = MarketHolds()
        self._round_trip_pnl = Decimal(0)
        self._rejections: dict[RejectReason, deque[int]] = {}
        self._verdict: Verdict | None = None
        """The limits as last judged; None once an input (config, account, position, margin)
        changed. The timer asks every 100 ms, the inputs change far less often."""
        self._handlers: dict[type, Callable[[Any], list[object]]] = {
            PositionChanged: self._on_position,
            FillBooked: self._on_fill_booked,
            FeedStale: self._on_feed_stale,
            FeedRecovered: self._on_feed_recovered,
            TimerFired: self._on_timer,
            OrderRejected: self._on_rejected,
            ModifyRejected: self._on_modify_rejected,
            ParametersChanged: self._on_parameters,
            MarginReported: self._on_margin,
            BookUpdated: self._on_book,
        }
        self._books = books
        self._switch_books()

    def handled_types(self) -> frozenset[type]:
        return frozenset(self._handlers)

    def handle(self, message: object) -> list[object]:
        handler = self._handlers.get(type(message))
        return handler(message) if handler is not None else []

    def _on_position(self, update: PositionChanged) -> list[object]:
        self._position = update
        self._verdict = None
        if self.tripped is not None:
            return []
        self.account.update(update.session_pnl, update.ts_local)
        self._save()
        return self._assess(update.ts_local)

    def _on_margin(self, margin: MarginReported) -> list[object]:
        self._margin = margin
        self._verdict = None
        return self._assess(margin.ts_local)

    def _switch_books(self) -> None:
        """A book is read only for the price band, and not after a trip (``_on_book``)."""
        if self._books is not None:
            self._books.on = band_on(self._config) and self.tripped is None

    def _on_book(self, book: BookUpdated) -> list[object]:
        """Only a new pause needs judging here; the timer ends it."""
        config = self._config
        mid = book.mid
        if mid is None or self.tripped is not None or not band_on(config):
            return []
        settings = BandSettings(
            pct=config.price_band_pct,
            window_s=config.price_band_window_s,
            pause_s=config.price_band_pause_s,
        )
        why = self._band.observe(
            mid, ts_exchange=book.ts_exchange, ts_local=book.ts_local, settings=settings
        )
        if why is None:
            return []
        log.warning("event=price_band_paused detail=%r", why)
        self._band_reason = why
        return self._assess(book.ts_local)

    def _assess(self, now_ns: int) -> list[object]:
        """Trip on the first hard limit crossed; else the state the soft limits ask for."""
        if self.tripped is not None:
            return []
        verdict = self.verdict()
        hard, near = verdict.hard, verdict.near
        if hard is not None:
            return self._trip(hard.kill, hard.detail, now_ns)
        if self._band.paused(now_ns):
            return self._move(
                TradingState.HALTED, self._band_reason, (RiskLimit.PRICE_BAND,), now_ns
            )
        held = self._holds.held(now_ns, self._config)
        if held is not None and held.state is TradingState.HALTED:
            return self._move(TradingState.HALTED, held.reason, (held.limit,), now_ns)
        reasons = [reading.detail for reading in near]
        limits = [reading.limit for reading in near]
        if held is not None:
            reasons.append(held.reason)
            limits.append(held.limit)
        if limits:
            return self._move(TradingState.REDUCE_ONLY, "; ".join(reasons), tuple(limits), now_ns)
        return self._move(TradingState.NORMAL, "within every limit", (), now_ns)

    def verdict(self) -> Verdict:
        """Every limit judged on the figures as they stand (computed again only after
        they changed)."""
        if self._verdict is None:
            found = readings(self._config, self.account, self._position, self._margin)
            self._verdict = judge(found)
        return self._verdict

    def _save(self) -> None:
        if self._store is not None:
            self._store.save_risk_state(self.account.snapshot())

    def _save_tripped(self) -> None:
        """The trip in the saved risk state is a record of what is done: a disk that refuses
        it must not turn this kill switch into a crashed guardian (a supervisor give-up,
        exit 81) instead of a kill switch (exit 80). The line is the journal's own
        (``said_if_unwritable``), which this layer cannot import."""
        try:
            self._save()
        except (sqlite3.Error, OSError) as error:
            log.error("event=state_write_failed what=risk_state error=%r", error)

    def _on_parameters(self, changed: ParametersChanged) -> list[object]:
        """New limits apply from the next update; a tripped switch stays tripped."""
        self._config = changed.risk
        self._verdict = None
        self._switch_books()
        return []

    def _on_fill_booked(self, booked: FillBooked) -> list[object]:
        """Count losing round trips: a round trip ends when the position returns to flat."""
        self._round_trip_pnl += booked.realized_pnl - booked.fill.fee
        after = booked.position_after
        before = after - booked.fill.size * booked.fill.side.sign
        if before == 0 or _sign(after) == _sign(before):
            return []
        account = self.account
        account.loss_streak = account.loss_streak + 1 if self._round_trip_pnl < 0 else 0
        self._verdict = None
        self._round_trip_pnl = Decimal(0)
        self._save()
        return self._assess(booked.ts_local)

    def _on_rejected(self, rejected: OrderRejected) -> list[object]:
        """The same refusal again and again is a loop to stop, not something to retry.

        Again and again in time: one answer that refused every order of an action (a
        ladder, or several coins' orders merged) is one refusal, not one per order.
        """
        if self.tripped is not None or rejected.reason in _STORM_EXEMPT:
            return []
        if self._holds.refused(rejected, self._config):  # the market is closed, a while
            return self._assess(rejected.ts_local)
        window_s = self._config.rejection_storm_window_s
        times = self._rejections.setdefault(rejected.reason, deque())
        if times and times[-1] == rejected.ts_local:
            return []  # another order of the answer already counted
        times.append(rejected.ts_local)
        while times[0] <= rejected.ts_local - window_s * NS_PER_S:
            times.popleft()
        if len(times) < self._config.rejection_storm_count:
            return []
        detail = (
            f"{len(times)} {rejected.reason.value} rejections within "
            f"{window_s:g}s, last: {rejected.message}"
        )
        return self._trip(KillReason.REJECTION_STORM, detail, rejected.ts_local)

    def _on_modify_rejected(self, rejected: ModifyRejected) -> list[object]:
        """A modify's new order refused as the market is closed starts the hold at once,
        not a round trip later with the first placement refused; other modify refusals
        are no storm (the order manager places again, and those refusals count)."""
        if self.tripped is None and self._holds.refused(rejected, self._config):
            return self._assess(rejected.ts_local)
        return []

    def _on_feed_stale(self, stale: FeedStale) -> list[object]:
        if self._stale_since is None:
            mono = None if stale.ts_mono is None else stale.ts_mono - stale.silent_for_ns
            self._stale_since = (stale.ts_local - stale.silent_for_ns, mono)
        return []

    def _on_feed_recovered(self, _: FeedRecovered) -> list[object]:
        self._stale_since = None
        return []

    def _silent_s(self, timer: TimerFired) -> float | None:
        """How long the feed has been stale, on the monotonic clock where both stamps have
        it: a step of the wall clock (NTP, a VM resumed) is not silence."""
        if self._stale_since is None:
            return None
        wall, mono = self._stale_since
        if mono is not None and timer.ts_mono is not None:
            return (timer.ts_mono - mono) / NS_PER_S
        return (timer.ts_local - wall) / NS_PER_S

    def _on_timer(self, timer: TimerFired) -> list[object]:
        now = timer.ts_local
        if self.tripped is not None:
            return []
        silent_s = self._silent_s(timer)
        if silent_s is not None and silent_s >= self._config.stale_feed_halt_s:
            return self._trip(KillReason.STALE_FEED, f"no market data for {silent_s:.1f}s", now)
        out: list[object] = []
        poll_ns = int(self._config.margin_poll_s * NS_PER_S)
        if not still_waiting(now, self._margin_asked_ns, poll_ns):
            self._margin_asked_ns = now
            out.append(RequestMargin(ts_local=now))
        # A price band pause ends on the clock, not on the next book.
        return [*out, *self._assess(now)]

    def trip(self, reason: KillReason, detail: str, now_ns: int) -> list[object]:
        """Trip the kill switch for a limit judged outside this class (once; later: nothing)."""
        return [] if self.tripped is not None else self._trip(reason, detail, now_ns)

    def _move(
        self, state: TradingState, reason: str, limits: tuple[RiskLimit, ...], now_ns: int
    ) -> list[object]:
        if state is self.state:
            return []
        log.warning(
            "event=risk_state from=%s to=%s limits=%s reason=%r",
            self.state.value,
            state.value,
            ",".join(limit.value for limit in limits) or "-",
            reason,
        )
        self.state = state
        return [RiskStateChanged(state=state, reason=reason, limits=limits, ts_local=now_ns)]

    def _trip(self, reason: KillReason, detail: str, now_ns: int) -> list[object]:
        # The gate first: quote targets already in flight must not reach the venue, even
        # if the latch cannot be written.
        self._gate.close(f"kill switch: {reason.value}")
        # Then the latch, before anything else that could fail: a crash or a restart from
        # here on stays stopped.
        try:
            self._latch.trip(reason=reason.value, detail=detail, ts_ns=now_ns)
        except OSError as error:
            # Failing to remember the trip is no reason to trade on now: this run stops,
            # and the operator hears that a restart would not know it tripped.
            log.error(
                "event=kill_switch_not_latched reason=%s error=%r action=stopping_anyway "
                "warning='a restart would trade: fix the state directory first'",
                reason.value,
                error,
            )
        self.tripped = reason
        self._switch_books()
        self.account.record_trip(reason.value, now_ns)
        self._save_tripped()
        log.error("event=kill_switch_tripped reason=%s detail=%r", reason.value, detail)
        halted = self._move(TradingState.HALTED, f"kill switch: {reason.value}", (), now_ns)
        # An unrealized loss past its limit is the position itself: closing it is the point.
        flatten = self._config.flatten_on_kill or reason is KillReason.UNREALIZED_LOSS
        tripped = KillSwitchTripped(reason=reason, detail=detail, flatten=flatten, ts_local=now_ns)
        return [*halted, tripped]


def band_on(config: RiskConfig) -> bool:
    """The price band watches mids (0: off, and no book is read for it)."""
    return config.price_band_pct > 0


def _sign(value: Decimal) -> int:
    return 1 if value > 0 else -1 if value < 0 else 0
