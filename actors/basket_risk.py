"""risk_guardian for several coins: one account's budget, and each coin's own limits.

Account-wide, acting on every coin: the single-coin guardian's loss rules (drawdown,
session and daily loss, losing streaks, rejection storms, stale feed), fed the sum of
every coin's PnL, and the gross and net USD exposure over all coins. Past one of them the
kill switch trips (every coin cancelled, flattened where configured); near one
(``reduce_only_at``, ``loss_soft_at``) every coin quotes reduce-only.

Per coin, acting on that coin alone: ``max_position`` and ``max_position_usd``, each
coin's own (``coins[i].risk``, else the top-level section's). Near them (the coin's
``reduce_only_at``) the coin quotes reduce-only; past them the coin is halted (its orders
cancelled) while the others keep quoting: one coin's inventory is not the account's
emergency. The price band watches each coin's own mid and pauses that coin alone; an
order refused for the exchange's open-interest cap holds its own coin reduce-only a while,
and one refused as the coin's trading is halted holds it halted (:mod:`actors.refusal_hold`),
the others quoting on. Margin
(the venue reports the account's) and the unrealized-loss breaker (on the sum) are the
account's.

Each coin hears the worst of the account's state and its own, as a ``RiskStateChanged``
naming it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from decimal import Decimal

from makerd.actors.account_equity import account_position
from makerd.actors.price_band import BandSettings, PriceBand
from makerd.actors.refusal_hold import MarketHolds
from makerd.actors.risk_guardian import RiskGuardianLogic, band_on
from makerd.actors.route_switch import RouteSwitch
from makerd.config.model import RiskConfig
from makerd.protocol.account import PositionChanged
from makerd.protocol.control import ParametersChanged, TimerFired
from makerd.protocol.market import BookUpdated
from makerd.protocol.orders import ModifyRejected, OrderRejected
from makerd.protocol.risk import KillReason, KillSwitchTripped, RiskStateChanged, TradingState

log = logging.getLogger("makerd.risk")
ZERO = Decimal(0)
_SEVERITY = {TradingState.NORMAL: 0, TradingState.REDUCE_ONLY: 1, TradingState.HALTED: 2}


class BasketRiskLogic:
    def __init__(
        self,
        *,
        config: RiskConfig,
        coins: tuple[str, ...],
        account: RiskGuardianLogic,
        books: RouteSwitch | None = None,
        coin_risk: Mapping[str, RiskConfig] | None = None,
    ) -> None:
        """``config``: the account's (top-level) section; ``coin_risk``: the section each
        coin is judged by, its own limits over ``config`` (a coin left out: ``config``).
        ``books`` is the route of books to this guardian: off while it ignores them."""
        self._config = config
        own = coin_risk or {}
        self._coin_config = {coin: own.get(coin, config) for coin in coins}
        self.account = account
        self._positions: dict[str, PositionChanged] = {}
        self._account_state = TradingState.NORMAL
        self.exposure_state = TradingState.NORMAL
        self.coin_states = dict.fromkeys(coins, TradingState.NORMAL)
        self._bands = {coin: PriceBand() for coin in coins}
        self._holds = {coin: MarketHolds() for coin in coins}
        self._now_ns = 0
        self._told = dict.fromkeys(coins, TradingState.NORMAL)
        self._books = books
        self._switch_books()

    def handled_types(self) -> frozenset[type]:
        return self.account.handled_types()

    def handle(self, message: object) -> list[object]:
        out = self._handle(message)
        if isinstance(message, ParametersChanged | TimerFired | BookUpdated):
            self._switch_books()
        return out

    def _switch_books(self) -> None:
        """A book feeds the band and can end a pause left from before a reload turned the
        band off (``_tell``); with the band off and no pause left, it changes nothing."""
        if self._books is not None:
            now = self._now_ns
            pausing = any(band.paused(now) for band in self._bands.values())
            self._books.on = band_on(self._config) or pausing

    def _handle(self, message: object) -> list[object]:
        if isinstance(message, ParametersChanged):
            message = self._reloaded(message)
        if isinstance(message, BookUpdated):
            self._observe_band(message)
            return self._tell([], message.ts_local)
        if self._coin_held(message):
            return self._tell([], self._now_ns)
        if not isinstance(message, PositionChanged):
            if isinstance(message, TimerFired):
                self._now_ns = message.ts_local  # a band's pause ends on the clock
            return self._tell(self._from_account(self.account.handle(message)), _ts(message))
        self._positions[message.coin] = message
        now = message.ts_local
        out = self._from_account(self.account.handle(self._account_position(now)))
        out += self._judge_exposure(now)
        self._judge_coin(message)
        return self._tell(out, now)

    def _reloaded(self, changed: ParametersChanged) -> ParametersChanged:
        """A reload names the coin whose limits it carries (one message per coin), or none
        (every coin's); each coin is judged again at once by its limits in force (not at
        its next position), and the account's section goes on to the account's guardian."""
        account = changed.account_risk or changed.risk
        self._config = account
        if changed.coin is None:
            self._coin_config = dict.fromkeys(self._coin_config, changed.risk)
        elif changed.coin in self._coin_config:
            self._coin_config[changed.coin] = changed.risk
        for update in self._positions.values():
            self._judge_coin(update)
        return dataclasses.replace(changed, risk=account, account_risk=None)

    def gross_usd(self) -> Decimal:
        return sum((abs(p.position) * p.mark for p in self._positions.values()), ZERO)

    def net_usd(self) -> Decimal:
        return abs(sum((p.position * p.mark for p in self._positions.values()), ZERO))

    def _account_position(self, now_ns: int) -> PositionChanged:
        """Every coin's PnL as one flat position: the wrapped guardian judges the losses."""
        return account_position(self._positions.values(), now_ns)

    def _from_account(self, messages: list[object]) -> list[object]:
        """Keep the guardian's kill switch; its state becomes the account's, told per coin."""
        out: list[object] = []
        for message in messages:
            if isinstance(message, RiskStateChanged):
                self._account_state = message.state
            else:
                out.append(message)
        return out

    def _judge_exposure(self, now_ns: int) -> list[object]:
        config = self._config
        soft = False
        for reason, value, limit in (
            (KillReason.MAX_GROSS_EXPOSURE, self.gross_usd(), config.max_gross_usd),
            (KillReason.MAX_NET_EXPOSURE, self.net_usd(), config.max_net_usd),
        ):
            if not limit:
                continue
            if value > limit:
                detail = f"{reason.value.removeprefix('max_')} {value:.2f} USD over {limit} USD"
                return self._from_account(self.account.trip(reason, detail, now_ns))
            soft = soft or value >= limit * config.reduce_only_at
        self.exposure_state = TradingState.REDUCE_ONLY if soft else TradingState.NORMAL
        return []

    def _judge_coin(self, update: PositionChanged) -> None:
        config = self._coin_config.get(update.coin, self._config)
        size = abs(update.position)
        notional = size * update.mark
        usd_limit = config.max_position_usd
        if size > config.max_position or (usd_limit and notional > usd_limit):
            state = TradingState.HALTED
        elif size >= config.max_position * config.reduce_only_at or (
            usd_limit and notional >= usd_limit * config.reduce_only_at
        ):
            state = TradingState.REDUCE_ONLY
        else:
            state = TradingState.NORMAL
        if update.coin in self.coin_states:
            self.coin_states[update.coin] = state

    def _coin_held(self, message: object) -> bool:
        """An order of one coin refused for its open-interest cap or its halt holds that
        coin alone (one whose coin is not said goes on to the account's guardian: every
        coin)."""
        if not isinstance(message, OrderRejected | ModifyRejected):
            return False
        if self.account.tripped is not None:
            return False
        holds = self._holds.get(message.coin)
        if holds is None:
            return False
        self._now_ns = message.ts_local
        return holds.refused(message, self._coin_config[message.coin])

    def _observe_band(self, book: BookUpdated) -> None:
        config, band = self._config, self._bands.get(book.coin)
        mid = book.mid
        if band is None or mid is None:
            return
        self._now_ns = book.ts_local
        settings = BandSettings(
            pct=config.price_band_pct,
            window_s=config.price_band_window_s,
            pause_s=config.price_band_pause_s,
        )
        why = band.observe(
            mid, ts_exchange=book.ts_exchange, ts_local=book.ts_local, settings=settings
        )
        if why is not None:
            log.warning("event=price_band_paused coin=%s detail=%r", book.coin, why)

    def _tell(self, out: list[object], now_ns: int) -> list[object]:
        """Each coin whose effective state moved hears it, naming the limit that moved it."""
        halted = any(isinstance(message, KillSwitchTripped) for message in out)
        for coin, position_state in self.coin_states.items():
            banded = self._bands[coin].paused(self._now_ns)
            held = self._holds[coin].held(self._now_ns, self._coin_config[coin])
            own = TradingState.HALTED if banded else position_state
            if held is not None and _SEVERITY[held.state] > _SEVERITY[own]:
                own = held.state
            states = (own, self._account_state, self.exposure_state)
            wanted = TradingState.HALTED if halted else max(states, key=_SEVERITY.__getitem__)
            if wanted is self._told[coin]:
                continue
            self._told[coin] = wanted
            reason = "kill switch" if halted else _reason(*states)
            out.insert(0, RiskStateChanged(state=wanted, reason=reason, ts_local=now_ns, coin=coin))
        return out


def _reason(own: TradingState, account: TradingState, exposure: TradingState) -> str:
    if own is not TradingState.NORMAL:
        return "this coin's position limit, price band, open-interest cap or halt"
    if account is not TradingState.NORMAL:
        return "an account loss limit"
    if exposure is not TradingState.NORMAL:
        return "account exposure (gross or net USD)"
    return "every limit clear"


def _ts(message: object) -> int:
    ts = getattr(message, "ts_local", 0)
    return ts if isinstance(ts, int) else 0
