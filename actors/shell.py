"""The thin pykka shell every actor uses around its plain state machine.

The shell answers pings, unpacks conflated slots, forwards every other message to the
logic and routes what the logic returns. It builds a fresh logic object on every start,
so a restarted actor rebuilds its state from the truth instead of inheriting a corpse's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from makerd.actors.faults import FaultPlan
from makerd.actors.handled_in_part import HandledInPartError
from makerd.actors.pong import answer_ping
from makerd.actors.router import Router, SlotReady
from makerd.actors.routing import Logic
from makerd.protocol.clock import Clock
from makerd.protocol.control import Ping
from makerd.supervisor import ChildHandle, SupervisedActor


class ActorShell(SupervisedActor):
    # Daemon threads: a hung actor the supervisor abandoned must not keep the process alive.
    # Shutdown never relies on interpreter exit; it is orchestrated explicitly.
    use_daemon_thread = True

    def __init__(
        self,
        handle: ChildHandle,
        *,
        build_logic: Callable[[], Logic],
        router: Router,
        clock: Clock,
        faults: FaultPlan,
    ) -> None:
        super().__init__(handle)
        self._role = handle.role
        self._build_logic = build_logic
        self._router = router
        self._clock = clock
        self._faults = faults
        self.logic: Logic | None = None

    def on_supervised_start(self) -> None:
        self._router.reset(self._role)
        self.logic = self._build_logic()
        start: Callable[[int], list[object]] | None = getattr(self.logic, "start", None)
        if start is not None:
            self._route(start(self._clock.now_ns()))

    def on_supervised_stop(self) -> None:
        # Not after a crash: a logic that failed may not be in a state worth saving.
        stop: Callable[[], None] | None = getattr(self.logic, "stop", None)
        if stop is not None:
            stop()

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, SlotReady):
            message = self._router.take(message.key)
            if message is None:
                return None
        if isinstance(message, Ping):
            self._router.dispatch(answer_ping(self._role, message, self._clock.now_ns()))
            return None
        self._faults.before_message(self._role, self._clock.now_ns())
        if self.logic is not None:
            try:
                out = self.logic.handle(message)
            except HandledInPartError as failed:
                self._route(list(failed.messages))
                raise failed.error from None
            self._route(out)
        return None

    def _route(self, messages: list[object]) -> None:
        if self.child_handle.superseded:
            # An abandoned (hung) incarnation that woke up: its replacement owns the role now.
            return
        for message in messages:
            self._router.dispatch(message)
