"""Gauges read at scrape time from the live process: actor liveness, inboxes, rate budget,
and the risk limits in force (so alerts can say "near its limit" after a SIGHUP reload)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Protocol

import pykka

from makerd.actors.router import inbox_depth
from makerd.actors.routing import ACTOR_ROLES
from makerd.config.model import MakerdConfig
from makerd.daemon.metrics import Metrics
from makerd.venues.base import BudgetedVenue, ProcessVenue, RateBudget
from makerd.venues.hyperliquid.recording import RecordingVenue


class Refs(Protocol):
    def ref(self, role: str) -> pykka.ActorRef[Any] | None: ...


def register_process_gauges(
    metrics: Metrics,
    *,
    supervisor: Refs,
    venue: ProcessVenue,
    config: Callable[[], MakerdConfig] | None = None,
    names: Callable[[str], tuple[str, ...]] = lambda role: (role,),
) -> None:
    """``config`` returns the configuration in force (it changes on a reload); ``names``
    the actors playing a role (one per coin for a per-coin role with several coins): the
    role is up while all of them are, and its inbox is theirs added up."""
    if config is not None:
        register_limit_gauges(metrics, config)
    for role in ACTOR_ROLES:
        actors = names(role)
        metrics.register_mailbox_depth(role, partial(_mailbox_depth, supervisor, actors))
        metrics.actor_up.labels(actor=role).set_function(partial(_actor_up, supervisor, actors))
    if isinstance(venue, BudgetedVenue):
        budget = venue.budget
        metrics.control.rate_budget_weight_left.set_function(lambda: budget.weight_left)
        metrics.control.address_requests_left.set_function(partial(_address_left, budget))
    if isinstance(venue, RecordingVenue) and venue.recorder is not None:
        recorder = venue.recorder
        metrics.register_recording_drops(lambda: recorder.dropped)


def register_coin_limit_gauges(
    coin_metrics: Mapping[str, Metrics], config: Callable[[], MakerdConfig]
) -> None:
    """Each coin's own position limit under its symbol, read from the config in force at
    each scrape: a position is in its coin's units, so is the limit it is held to."""
    for coin, metrics in coin_metrics.items():
        metrics.risk_max_position.set_function(partial(_max_position, config, coin))


def _max_position(config: Callable[[], MakerdConfig], coin: str) -> float:
    return float(config().coin_risk(coin).max_position)


def _actor_up(supervisor: Refs, actors: tuple[str, ...]) -> float:
    refs = [supervisor.ref(name) for name in actors]
    return 1.0 if all(ref is not None and ref.is_alive() for ref in refs) else 0.0


def _mailbox_depth(supervisor: Refs, actors: tuple[str, ...]) -> int:
    return sum(inbox_depth(supervisor.ref(name)) for name in actors)


def _address_left(budget: RateBudget) -> float:
    left = budget.address_requests_left
    return float("nan") if left is None else float(left)


def register_limit_gauges(metrics: Metrics, config: Callable[[], MakerdConfig]) -> None:
    """The account's risk limits, read from the config in force at each scrape."""
    metrics.risk_max_drawdown_usd.set_function(lambda: float(config().risk.max_drawdown_usd))
    metrics.risk_session_loss_limit_usd.set_function(lambda: float(config().risk.session_loss_usd))
