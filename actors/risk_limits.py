"""Every limit the risk guardian judges, read against the figures it holds.

One reading per limit: what was measured, the hard limit (the kill switch) and the soft
threshold (quoting turns reduce-only). A limit set to 0 where 0 means "off" gives no
reading. Pure: the guardian decides what to do with the readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from makerd.actors.risk_account import RiskAccount
from makerd.config.model import RiskConfig
from makerd.protocol.account import PositionChanged
from makerd.protocol.risk import KillReason, MarginReported, RiskLimit


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    limit: RiskLimit
    kill: KillReason
    value: Decimal
    hard: Decimal
    soft: Decimal
    detail: str
    strict: bool = False
    """Breached only past the limit, not at it (a position exactly at its maximum is allowed)."""

    @property
    def breached(self) -> bool:
        return self.value > self.hard if self.strict else self.value >= self.hard

    @property
    def near(self) -> bool:
        return self.value >= self.soft


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What the readings ask for: the first hard limit crossed, and every soft one."""

    hard: Reading | None
    near: tuple[Reading, ...]


def judge(found: list[Reading]) -> Verdict:
    hard = next((reading for reading in found if reading.breached), None)
    return Verdict(hard=hard, near=tuple(reading for reading in found if reading.near))


def readings(
    config: RiskConfig,
    account: RiskAccount,
    position: PositionChanged | None,
    margin: MarginReported | None,
) -> list[Reading]:
    """The readings in the order their kill reasons are reported when several trip at once."""
    found = [*_position_readings(config, position), *_loss_readings(config, account)]
    if margin is not None:
        use = margin.use
        detail = (
            f"margin use {use:.3f} ({margin.margin_used:.2f} of account value "
            f"{margin.account_value:.2f} USD)"
        )
        found.append(_reading(MARGIN, use, config.margin_hard_at, config.margin_soft_at, detail))
    return found


MARGIN = (RiskLimit.MARGIN_RATIO, KillReason.MARGIN_RATIO)
POSITION = (RiskLimit.POSITION, KillReason.MAX_POSITION)
NOTIONAL = (RiskLimit.POSITION_NOTIONAL, KillReason.MAX_POSITION)
UNREALIZED = (RiskLimit.UNREALIZED_LOSS, KillReason.UNREALIZED_LOSS)
DRAWDOWN = (RiskLimit.DRAWDOWN, KillReason.MAX_DRAWDOWN)
SESSION = (RiskLimit.SESSION_LOSS, KillReason.SESSION_LOSS)
DAILY = (RiskLimit.DAILY_LOSS, KillReason.DAILY_LOSS)
STREAK = (RiskLimit.LOSS_STREAK, KillReason.LOSS_STREAK)


def _reading(
    names: tuple[RiskLimit, KillReason],
    value: Decimal,
    hard: Decimal,
    soft: Decimal,
    detail: str,
    *,
    strict: bool = False,
) -> Reading:
    limit, kill = names
    return Reading(
        limit=limit, kill=kill, value=value, hard=hard, soft=soft, detail=detail, strict=strict
    )


def _position_readings(config: RiskConfig, position: PositionChanged | None) -> list[Reading]:
    if position is None:
        return []
    size, near = abs(position.position), config.reduce_only_at
    limit = config.max_position
    detail = f"position {position.position}"
    found = [_reading(POSITION, size, limit, limit * near, detail, strict=True)]
    if config.max_position_usd:
        notional, limit = size * position.mark, config.max_position_usd
        detail = f"position notional {notional:.2f} USD"
        found.append(_reading(NOTIONAL, notional, limit, limit * near, detail, strict=True))
    if config.max_unrealized_loss_usd:
        detail = (
            f"unrealized pnl {position.unrealized_pnl:.2f} on position "
            f"{position.position} at mark {position.mark}"
        )
        loss, limit = -position.unrealized_pnl, config.max_unrealized_loss_usd
        found.append(_reading(UNREALIZED, loss, limit, limit * config.loss_soft_at, detail))
    return found


def _loss_readings(config: RiskConfig, account: RiskAccount) -> list[Reading]:
    near = config.loss_soft_at
    drawdown, session, daily = (
        config.max_drawdown_usd,
        config.session_loss_usd,
        config.daily_loss_usd,
    )
    found = [
        _reading(
            DRAWDOWN,
            account.drawdown,
            drawdown,
            drawdown * near,
            f"drawdown {account.drawdown:.2f} from peak {account.peak:.2f}",
        ),
        _reading(
            SESSION,
            -account.session_pnl,
            session,
            session * near,
            f"session pnl {account.session_pnl:.2f}",
        ),
        _reading(
            DAILY,
            -account.day_pnl,
            daily,
            daily * near,
            f"pnl of UTC day {account.day} {account.day_pnl:.2f}",
        ),
    ]
    streak_limit = config.max_losing_round_trips
    if streak_limit:
        # Soft one losing round trip short of the limit; a limit of 1 has no warning.
        soft = Decimal(streak_limit - 1 if streak_limit > 1 else streak_limit)
        streak = Decimal(account.loss_streak)
        detail = f"{account.loss_streak} losing round trips in a row"
        found.append(_reading(STREAK, streak, Decimal(streak_limit), soft, detail))
    return found
