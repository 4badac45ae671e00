"""The makerd supervision tree: one child spec per actor role, in dependency order."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pykka

from actors.faults import FaultPlan
from actors.router import Router
from actors.routing import ACTOR_ROLES
from actors.shell import ActorShell
from config.model import MakerdConfig
from makerd.wiring import Dependencies, logic_factories
from protocol.clock import Clock
from supervisor import (
    ChildHandle,
    ChildSpec,
    Escalation,
    RestartRecord,
    RestartType,
    Strategy,
    Supervisor,
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
    factories = logic_factories(deps)
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

    specs = [
        ChildSpec(
            role=role,
            start=partial(start, role),
            restart=RestartType.PERMANENT,
            shutdown_timeout_s=config.supervisor.shutdown_timeout_s,
        )
        for role in ACTOR_ROLES
    ]
    return Supervisor(
        specs,
        strategy=Strategy(config.supervisor.strategy.value),
        max_restarts=config.supervisor.max_restarts,
        period_s=config.supervisor.period_s,
        on_escalate=on_escalate,
        on_restart=on_restart,
    )
