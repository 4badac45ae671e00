"""``makerd ctl status``: the running process's state as one JSON object.

Built from the observer's snapshot (a copy taken under its lock), the configuration in
force and facts about the run; no actor is asked anything. Sizes, prices and fees are
exact decimal strings; PnL is rounded to :data:`PNL_PLACES` (it is valued against an
average entry, a quotient whose 28 digits are division residue beyond a micro-dollar:
an unrealized PnL read "-0.30999999999999999999999996"); counts are integers; times are
seconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from makerd.config.model import COIN_RISK_KEYS, MakerdConfig, RiskConfig
from makerd.daemon.latch import LatchState
from makerd.daemon.status_snapshot import StatusSnapshot

NS_PER_S = 1_000_000_000
PNL_PLACES = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFacts:
    """What the status says about the process itself."""

    session_id: int
    pid: int
    uptime_s: float
    now_ns: int
    stopping: str | None
    """Why the trading gate closed (a stop or a kill switch), None while trading."""
    kill_switch: LatchState | None


def status_document(
    snapshot: StatusSnapshot, config: MakerdConfig, facts: RunFacts
) -> dict[str, object]:
    state = "halted" if facts.stopping is not None else snapshot.trading_state
    venue_age = (
        round((facts.now_ns - snapshot.venue_report_ns) / NS_PER_S, 3)
        if snapshot.venue_open_orders is not None
        else None
    )
    return {
        "ok": True,
        "command": "status",
        "mode": config.mode.value,
        "coin": config.coin,
        "session": facts.session_id,
        "pid": facts.pid,
        "trading_state": state,
        "paused": snapshot.paused,
        "stopping": facts.stopping,
        "open_orders": {
            "makerd": snapshot.open_orders,
            "venue": snapshot.venue_open_orders,
            "venue_report_age_s": venue_age,
        },
        "position": _text(snapshot.position),
        "pnl": {
            "realized_usd": _text(snapshot.realized_pnl, places=PNL_PLACES),
            "unrealized_usd": _text(snapshot.unrealized_pnl, places=PNL_PLACES),
            "fees_usd": _text(snapshot.fees),
            "funding_usd": _text(snapshot.funding),
            "total_usd": _text(
                snapshot.realized_pnl + snapshot.unrealized_pnl - snapshot.fees + snapshot.funding,
                places=PNL_PLACES,
            ),
        },
        "fills": snapshot.fills,
        "market": {
            "mid": _text(snapshot.mid),
            "spread_bps": _text(snapshot.spread_bps, places=2),
            "feed_stale": snapshot.feed_stale,
        },
        "risk": {
            "state": snapshot.state.value,
            "reason": snapshot.risk_reason or None,
            "limits": risk_limits(config.risk_in_force()),
        },
        "kill_switch": _kill_switch(facts.kill_switch),
        "uptime_s": round(facts.uptime_s, 3),
        "restarts": snapshot.restarts,
    }


_PER_COIN = ("trading_state", "open_orders", "position", "pnl", "fills", "market", "restarts")


def coins_document(
    snapshots: dict[str, StatusSnapshot], config: MakerdConfig, facts: RunFacts
) -> dict[str, object]:
    """With several coins: the account's totals and each coin's own part of the status."""
    coins = {}
    for coin, snapshot in snapshots.items():
        own = status_document(snapshot, config, facts)
        limits = risk_limits(config.coin_risk(coin))
        coins[coin] = {key: own[key] for key in _PER_COIN} | {
            "risk_reason": snapshot.risk_reason or None,
            "risk_limits": {key: limits[key] for key in COIN_RISK_KEYS},
        }
    values = snapshots.values()
    return {
        "coin": ",".join(snapshots),
        "coins": coins,
        "open_orders_total": sum(snapshot.open_orders for snapshot in values),
        "fills_total": sum(snapshot.fills for snapshot in values),
    }


def risk_limits(risk: RiskConfig) -> dict[str, object]:
    """The running config's risk section, every key (decimals as exact strings)."""
    return {
        field.name: _text(value) if isinstance(value, Decimal) else value
        for field in dataclasses.fields(risk)
        for value in (getattr(risk, field.name),)
    }


def _kill_switch(latched: LatchState | None) -> dict[str, object]:
    if latched is None:
        return {"latched": False}
    return {
        "latched": True,
        "reason": latched.reason,
        "detail": latched.detail,
        "since_ns": latched.tripped_at_ns,
    }


def _text(value: Decimal | None, *, places: int | None = None) -> str | None:
    if value is None:
        return None
    if places is not None:
        value = round(value, places)
    return format(value, "f")
