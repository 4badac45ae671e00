"""The makerd supervision tree: one child spec per actor, in dependency order.

One coin: one supervisor over every role. Several coins: a root supervisor over the
shared roles (fill tracker, risk guardian, watchdog) and one supervisor per coin over
that coin's book feed, quoter and order manager, each with the configured restart
intensity: a coin that crash-loops gives up alone (see ``on_coin_gave_up``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import pykka

from makerd.actors.faults import FaultPlan
from makerd.actors.router import Router
from makerd.actors.routing import ACTOR_ROLES, COIN_ROLES, Logic, coin_role
from makerd.actors.shell import ActorShell
from makerd.config.model import MakerdConfig
from makerd.daemon.basket_wiring import basket_factories
from makerd.daemon.cloids import CoinCloids
from makerd.daemon.wiring import Dependencies, logic_factories
from makerd.protocol.clock import Clock
from makerd.protocol.instrument import Instrument
from makerd.supervision.forest import SupervisorForest
from makerd.supervisor import (
    ChildHandle,
    ChildSpec,
    Escalation,
    RestartRecord,
    RestartType,
    Strategy,
    Supervisor,
)


def build_tree(
    config: MakerdConfig,
    *,
    deps: Dependencies,
    cloids: CoinCloids,
    instruments: tuple[Instrument, ...],
    router: Router,
    clock: Clock,
    on_escalate: Callable[[Escalation], None],
    on_coin_gave_up: Callable[[str, Escalation], None],
    on_restart: Callable[[RestartRecord], None],
) -> Supervisor | SupervisorForest:
    """One supervisor for one coin; a forest for several (see the module docstring)."""
    if len(instruments) == 1:
        return build_supervisor(
            config,
            deps=deps,
            router=router,
            clock=clock,
            on_escalate=on_escalate,
            on_restart=on_restart,
        )
    return build_forest(
        config,
        factories=basket_factories(deps, instruments=instruments, cloids=cloids),
        coins=tuple(instrument.coin for instrument in instruments),
        router=router,
        clock=clock,
        on_escalate=on_escalate,
        on_coin_gave_up=on_coin_gave_up,
        on_restart=on_restart,
    )


def build_supervisor(
    config: MakerdConfig,
    *,
    deps: Dependencies,
    router: Router,
    clock: Clock,
    on_escalate: Callable[[Escalation], None],
    on_restart: Callable[[RestartRecord], None],
) -> Supervisor:
    specs = child_specs(config, logic_factories(deps), router=router, clock=clock)
    return _tree(config, specs, on_escalate=on_escalate, on_restart=on_restart, name="makerd")


def build_forest(
    config: MakerdConfig,
    *,
    factories: Mapping[str, Callable[[], Logic]],
    coins: tuple[str, ...],
    router: Router,
    clock: Clock,
    on_escalate: Callable[[Escalation], None],
    on_coin_gave_up: Callable[[str, Escalation], None],
    on_restart: Callable[[RestartRecord], None],
) -> SupervisorForest:
    """The shared roles under the root; each coin's roles under that coin's supervisor."""
    specs = {spec.role: spec for spec in child_specs(config, factories, router=router, clock=clock)}
    shared = [specs[role] for role in ACTOR_ROLES if role not in COIN_ROLES]
    root = _tree(config, shared, on_escalate=on_escalate, on_restart=on_restart, name="makerd")
    groups = {
        coin: _tree(
            config,
            [specs[coin_role(role, coin)] for role in ACTOR_ROLES if role in COIN_ROLES],
            on_escalate=partial(on_coin_gave_up, coin),
            on_restart=on_restart,
            name=f"coin:{coin}",
        )
        for coin in coins
    }
    return SupervisorForest(root, groups)


def child_specs(
    config: MakerdConfig,
    factories: Mapping[str, Callable[[], Logic]],
    *,
    router: Router,
    clock: Clock,
) -> list[ChildSpec]:
    """One permanent child per factory, in the factories' order."""
    faults = FaultPlan(
        crash_role=config.faults.crash_role,
        crash_every_s=config.faults.crash_every_s,
        hang_role=config.faults.hang_role,
        hang_after_s=config.faults.hang_after_s,
        start_ns=clock.now_ns(),
    )

    def start(role: str, handle: ChildHandle) -> pykka.ActorRef[Any]:
        return ActorShell.start(
            handle, build_logic=factories[role], router=router, clock=clock, faults=faults
        )

    return [
        ChildSpec(
            role=role,
            start=partial(start, role),
            restart=RestartType.PERMANENT,
            shutdown_timeout_s=config.supervisor.shutdown_timeout_s,
        )
        for role in factories
    ]


def _tree(
    config: MakerdConfig,
    specs: Sequence[ChildSpec],
    *,
    on_escalate: Callable[[Escalation], None],
    on_restart: Callable[[RestartRecord], None],
    name: str,
) -> Supervisor:
    return Supervisor(
        specs,
        strategy=Strategy(config.supervisor.strategy.value),
        max_restarts=config.supervisor.max_restarts,
        period_s=config.supervisor.period_s,
        on_escalate=on_escalate,
        on_restart=on_restart,
        name=name,
    )
