"""Gauges read at scrape time from the live process: actor liveness, inboxes, rate budget,
and the risk limits in force (so alerts can say "near its limit" after a SIGHUP reload)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from actors.router import inbox_depth
from actors.routing import ACTOR_ROLES
from config.model import MakerdConfig
from makerd.metrics import Metrics
from supervisor import Supervisor
from venues.base import BudgetedVenue, ProcessVenue, RateBudget
from venues.hyperliquid.recording import RecordingVenue


def register_process_gauges(
    metrics: Metrics,
    *,
    supervisor: Supervisor,
    venue: ProcessVenue,
    config: Callable[[], MakerdConfig] | None = None,
) -> None:
    """``config`` returns the configuration in force (it changes on a reload)."""
    if config is not None:
        register_limit_gauges(metrics, config)
    for role in ACTOR_ROLES:
        metrics.register_mailbox_depth(role, partial(_mailbox_depth, supervisor, role))
        metrics.actor_up.labels(actor=role).set_function(partial(_actor_up, supervisor, role))
    if isinstance(venue, BudgetedVenue):
        budget = venue.budget
        metrics.control.rate_budget_weight_left.set_function(lambda: budget.weight_left)
        metrics.control.address_requests_left.set_function(partial(_address_left, budget))
    if isinstance(venue, RecordingVenue) and venue.recorder is not None:
        recorder = venue.recorder
        metrics.register_recording_drops(lambda: recorder.dropped)


def _actor_up(supervisor: Supervisor, role: str) -> float:
    ref = supervisor.ref(role)
    return 1.0 if ref is not None and ref.is_alive() else 0.0


def _mailbox_depth(supervisor: Supervisor, role: str) -> int:
    return inbox_depth(supervisor.ref(role))


def _address_left(budget: RateBudget) -> float:
    left = budget.address_requests_left
    return float("nan") if left is None else float(left)


def register_limit_gauges(metrics: Metrics, config: Callable[[], MakerdConfig]) -> None:
    """The risk limits, read from the config in force at each scrape."""
    metrics.risk_max_position.set_function(lambda: float(config().risk.max_position))
    metrics.risk_max_drawdown_usd.set_function(lambda: float(config().risk.max_drawdown_usd))
    metrics.risk_session_loss_limit_usd.set_function(lambda: float(config().risk.session_loss_usd))
