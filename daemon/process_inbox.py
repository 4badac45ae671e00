"""Everything the routing table sends to the process itself (its ``OBSERVER`` role).

First the coins' observers see it (metrics, status lines), then, for the four reports
the process must act on, the run's reactions hear it, once, outside every observer's
lock: a reaction may take other locks, cancel at the venue or wake the run loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from makerd.protocol.control import AllChildrenAlive, ChildUnresponsive, OperatorCommandApplied
from makerd.protocol.risk import KillSwitchTripped


class ProcessReactions(Protocol):
    """What the run does about its tree's reports (``daemon.run_reactions`` builds them)."""

    @property
    def on_unresponsive(self) -> Callable[[ChildUnresponsive], None]: ...

    @property
    def on_alive(self) -> Callable[[], None]: ...

    @property
    def on_kill_switch(self) -> Callable[[KillSwitchTripped], None]: ...

    @property
    def on_operator_command(self) -> Callable[[OperatorCommandApplied], None]: ...


class ProcessInbox:
    def __init__(self, observers: Callable[[object], None], reactions: ProcessReactions) -> None:
        self._observers = observers
        self._reactions: dict[type, Callable[[Any], None]] = {
            ChildUnresponsive: reactions.on_unresponsive,
            AllChildrenAlive: lambda _alive: reactions.on_alive(),
            KillSwitchTripped: reactions.on_kill_switch,
            OperatorCommandApplied: reactions.on_operator_command,
        }

    def __call__(self, message: object) -> None:
        self._observers(message)
        reaction = self._reactions.get(type(message))
        if reaction is not None:
            reaction(message)
