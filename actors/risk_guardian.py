"""risk_guardian: the only actor that may halt trading.

NORMAL → REDUCE_ONLY (position near its limit) → HALTED (a kill switch). A kill switch
is a latch written to disk before anything else happens, so neither a crash nor a
restart can resume trading until an operator clears it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from actors.gate import TradingGate
from actors.risk_account import RiskAccount
from config.model import RiskConfig
from protocol.account import FillBooked, PositionChanged
from protocol.control import ParametersChanged, TimerFired
from protocol.market import FeedRecovered, FeedStale
from protocol.orders import OrderRejected, RejectReason
from protocol.risk import (
    KillReason,
    KillSwitchTripped,
    PersistedRisk,
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
    ) -> None:
        self._config = config
        self._latch = latch
        self._gate = gate or TradingGate()
        self._store = store
        self.state = TradingState.NORMAL
        self.tripped: KillReason | None = None
        self.account = RiskAccount(store.load_risk_state() if store is not None else None)
        self._stale_since_ns: int | None = None
        self._round_trip_pnl = Decimal(0)
        self._rejections: dict[RejectReason, deque[int]] = {}
        self._handlers: dict[type, Callable[[Any], list[object]]] = {
            PositionChanged: self._on_position,
            FillBooked: self._on_fill_booked,
            FeedStale: self._on_feed_stale,
            FeedRecovered: self._on_feed_recovered,
            TimerFired: self._on_timer,
            OrderRejected: self._on_rejected,
            ParametersChanged: self._on_parameters,
        }

    def handled_types(self) -> frozenset[type]:
        return frozenset(self._handlers)

    def handle(self, message: object) -> list[object]:
        handler = self._handlers.get(type(message))
        return handler(message) if handler is not None else []

    def _on_position(self, update: PositionChanged) -> list[object]:
        if self.tripped is not None:
            return []
        account = self.account
        account.update(update.total_pnl, update.ts_local)
        self._save()
        hard = self._hard_breach(update)
        if hard is not None:
            return self._trip(*hard, update.ts_local)
        soft = self._soft_breaches(update)
        wanted = TradingState.REDUCE_ONLY if soft else TradingState.NORMAL
        return self._move(wanted, "; ".join(soft) or f"position {update.position}", update.ts_local)

    def _hard_breach(self, update: PositionChanged) -> tuple[KillReason, str] | None:
        config, account = self._config, self.account
        size = abs(update.position)
        notional = size * update.mark
        if size > config.max_position:
            return KillReason.MAX_POSITION, f"position {update.position}"
        if config.max_position_usd and notional > config.max_position_usd:
            return KillReason.MAX_POSITION, f"position notional {notional:.2f} USD"
        if account.drawdown >= config.max_drawdown_usd:
            detail = f"drawdown {account.drawdown:.2f} from peak {account.peak:.2f}"
            return KillReason.MAX_DRAWDOWN, detail
        if -account.session_pnl >= config.session_loss_usd:
            return KillReason.SESSION_LOSS, f"session pnl {account.session_pnl:.2f}"
        if -account.day_pnl >= config.daily_loss_usd:
            return KillReason.DAILY_LOSS, f"pnl of UTC day {account.day} {account.day_pnl:.2f}"
        return None

    def _soft_breaches(self, update: PositionChanged) -> list[str]:
        """Limits close enough that quoting may only reduce the position."""
        config, account = self._config, self.account
        near = config.loss_soft_at
        size = abs(update.position)
        checks = [
            (size >= config.max_position * config.reduce_only_at, f"position {update.position}"),
            (
                bool(config.max_position_usd)
                and size * update.mark >= config.max_position_usd * config.reduce_only_at,
                f"position notional {size * update.mark:.2f} USD",
            ),
            (
                account.drawdown >= config.max_drawdown_usd * near,
                f"drawdown {account.drawdown:.2f}",
            ),
            (-account.session_pnl >= config.session_loss_usd * near, "session loss"),
            (
                -account.day_pnl >= config.daily_loss_usd * near,
                f"daily loss {account.day_pnl:.2f}",
            ),
            (
                config.max_losing_round_trips > 1
                and account.loss_streak >= config.max_losing_round_trips - 1,
                f"{account.loss_streak} losing round trips",
            ),
        ]
        return [reason for breached, reason in checks if breached]

    def _save(self) -> None:
        if self._store is not None:
            self._store.save_risk_state(self.account.snapshot())

    def _on_parameters(self, changed: ParametersChanged) -> list[object]:
        """New limits apply from the next update; a tripped switch stays tripped."""
        self._config = changed.risk
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
        self._round_trip_pnl = Decimal(0)
        self._save()
        limit = self._config.max_losing_round_trips
        if limit and account.loss_streak >= limit and self.tripped is None:
            detail = f"{account.loss_streak} losing round trips in a row"
            return self._trip(KillReason.LOSS_STREAK, detail, booked.ts_local)
        return []

    def _on_rejected(self, rejected: OrderRejected) -> list[object]:
        """The same refusal again and again is a loop to stop, not something to retry."""
        if self.tripped is not None or rejected.reason in _STORM_EXEMPT:
            return []
        window_s = self._config.rejection_storm_window_s
        times = self._rejections.setdefault(rejected.reason, deque())
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

    def _on_feed_stale(self, stale: FeedStale) -> list[object]:
        if self._stale_since_ns is None:
            self._stale_since_ns = stale.ts_local - stale.silent_for_ns
        return []

    def _on_feed_recovered(self, _: FeedRecovered) -> list[object]:
        self._stale_since_ns = None
        return []

    def _on_timer(self, timer: TimerFired) -> list[object]:
        if self._stale_since_ns is None or self.tripped is not None:
            return []
        silent_s = (timer.ts_local - self._stale_since_ns) / NS_PER_S
        if silent_s >= self._config.stale_feed_halt_s:
            return self._trip(
                KillReason.STALE_FEED, f"no market data for {silent_s:.1f}s", timer.ts_local
            )
        return []

    def trip(self, reason: KillReason, detail: str, now_ns: int) -> list[object]:
        """Trip the kill switch for a limit judged outside this class (once; later: nothing)."""
        return [] if self.tripped is not None else self._trip(reason, detail, now_ns)

    def _move(self, state: TradingState, reason: str, now_ns: int) -> list[object]:
        if state is self.state:
            return []
        log.info("event=risk_state from=%s to=%s reason=%r", self.state.value, state.value, reason)
        self.state = state
        return [RiskStateChanged(state=state, reason=reason, ts_local=now_ns)]

    def _trip(self, reason: KillReason, detail: str, now_ns: int) -> list[object]:
        # The latch goes to disk first: if anything after this fails, trading stays stopped.
        self._latch.trip(reason=reason.value, detail=detail, ts_ns=now_ns)
        # Then the gate: quote targets already in flight must not reach the venue.
        self._gate.close(f"kill switch: {reason.value}")
        self.tripped = reason
        self.account.record_trip(reason.value, now_ns)
        self._save()
        log.error("event=kill_switch_tripped reason=%s detail=%r", reason.value, detail)
        halted = self._move(TradingState.HALTED, f"kill switch: {reason.value}", now_ns)
        tripped = KillSwitchTripped(
            reason=reason, detail=detail, flatten=self._config.flatten_on_kill, ts_local=now_ns
        )
        return [*halted, tripped]


def _sign(value: Decimal) -> int:
    return 1 if value > 0 else -1 if value < 0 else 0
