"""The supervision tree: OTP semantics (restart types, strategies, intensity) for pykka actors.

Public face of the :mod:`supervision` package. A :class:`Supervisor` starts the
:class:`ChildSpec` children in order; each incarnation is a :class:`SupervisedActor` built
with the :class:`ChildHandle` it is given, and reports its own exits through it. Peers find
each other by role with :meth:`Supervisor.ref`, so a restarted actor is found again.
See ``supervision/policy.py`` for how hung children are replaced once, then given up on.
"""

from makerd.supervision.child import ChildHandle, SupervisedActor
from makerd.supervision.model import (
    ChildInfo,
    ChildSpec,
    ChildStatus,
    Escalation,
    ExitKind,
    RestartAction,
    RestartRecord,
    RestartType,
    Strategy,
    SupervisorStartError,
)
from makerd.supervision.tree import Supervisor

__all__ = [
    "ChildHandle",
    "ChildInfo",
    "ChildSpec",
    "ChildStatus",
    "Escalation",
    "ExitKind",
    "RestartAction",
    "RestartRecord",
    "RestartType",
    "Strategy",
    "SupervisedActor",
    "Supervisor",
    "SupervisorStartError",
]
