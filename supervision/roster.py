"""The children of one supervisor and the mechanics of starting, stopping, abandoning them.

Policy (what to restart, when to give up) lives in :mod:`supervision.tree`; this module
only knows how to run one incarnation. Used from one thread at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pykka

from makerd.supervision.child import ChildHandle, ExitReport
from makerd.supervision.logline import format_line
from makerd.supervision.model import ChildSpec, ChildStatus

logger = logging.getLogger("makerd.supervisor")


@dataclass(slots=True, kw_only=True)
class Incarnation:
    """One started actor of a child."""

    handle: ChildHandle
    ref: pykka.ActorRef[Any]


@dataclass(slots=True, eq=False)
class ChildSlot:
    """A child's place in start order; outlives its incarnations."""

    spec: ChildSpec
    generation: int = 0
    current: Incarnation | None = None
    status: ChildStatus = "stopped"

    @property
    def role(self) -> str:
        return self.spec.role


class ChildRoster:
    """The ordered children, and the incarnations given up on that may still be running."""

    def __init__(
        self,
        specs: Sequence[ChildSpec],
        sink: Callable[[ExitReport], None],
        on_starting: Callable[[str, pykka.ActorRef[Any] | None], None] = lambda _r, _ref: None,
    ) -> None:
        roles = [spec.role for spec in specs]
        duplicates = sorted({role for role in roles if roles.count(role) > 1})
        if duplicates:
            raise ValueError(f"duplicate child roles: {', '.join(duplicates)}")
        self.slots = [ChildSlot(spec) for spec in specs]
        self._sink = sink
        self._on_starting = on_starting
        self._abandoned: list[Incarnation] = []

    def find(self, role: str) -> ChildSlot | None:
        return next((slot for slot in self.slots if slot.role == role), None)

    def drop(self, slot: ChildSlot) -> None:
        """Forget a child for good (a temporary child that exited or was stopped)."""
        self.slots.remove(slot)

    def start(self, slot: ChildSlot) -> BaseException | None:
        """Start a new incarnation and wait for its ``on_supervised_start``; the error if not.

        Every attempt gets a new generation, so reports from a failed attempt are stale.
        """
        slot.generation += 1
        role = slot.role
        handle = ChildHandle(
            role=role,
            generation=slot.generation,
            sink=self._sink,
            announce=lambda ref: self._on_starting(role, ref),
        )
        try:
            ref = slot.spec.start(handle)
        except Exception as error:  # the factory failed: a failed start, not our crash
            return error
        if ref.actor_urn != handle.actor_urn:
            self._give_up_on(Incarnation(handle=handle, ref=ref), reason="not_bound_to_handle")
            return TypeError(
                f"start of {slot.role!r} must return the SupervisedActor built with its handle"
            )
        # Visible by role (announced by the actor itself) while on_supervised_start runs.
        try:
            return self._await_start(slot, handle, ref)
        finally:
            self._on_starting(slot.role, None)

    def _await_start(
        self, slot: ChildSlot, handle: ChildHandle, ref: pykka.ActorRef[Any]
    ) -> BaseException | None:
        timeout_s = slot.spec.start_timeout_s
        if not handle.start_outcome.wait(timeout_s):
            self._give_up_on(Incarnation(handle=handle, ref=ref), reason="start_timeout")
            return TimeoutError(f"on_supervised_start did not finish within {timeout_s:g}s")
        if handle.start_outcome.error is not None:
            return handle.start_outcome.error  # pykka has stopped that actor already
        slot.current = Incarnation(handle=handle, ref=ref)
        slot.status = "running"
        return None

    def stop(self, slot: ChildSlot) -> bool:
        """Stop the running incarnation within its shutdown timeout; False if abandoned."""
        incarnation = slot.current
        slot.current = None
        if incarnation is None:
            slot.status = "stopped"
            return True
        incarnation.handle.request_stop()
        try:
            incarnation.ref.stop(block=True, timeout=slot.spec.shutdown_timeout_s)
        except pykka.Timeout:
            self._give_up_on(incarnation, reason="stop_timeout")
            slot.status = "abandoned"
            return False
        slot.status = "stopped"
        return True

    def abandon(self, slot: ChildSlot, *, reason: str) -> None:
        """Unregister the running incarnation without waiting for it (it is hung)."""
        incarnation = slot.current
        slot.current = None
        if incarnation is not None:
            self._give_up_on(incarnation, reason=reason)

    def stop_all(self) -> list[str]:
        """Stop every child in reverse start order; the roles left running (abandoned)."""
        left_running: list[str] = []
        for slot in reversed(self.slots):
            if not self.stop(slot):
                left_running.append(slot.role)
        for incarnation in self._abandoned:
            role = incarnation.handle.role
            if incarnation.ref.is_alive() and role not in left_running:
                left_running.append(role)
        return left_running

    def _give_up_on(self, incarnation: Incarnation, *, reason: str) -> None:
        handle = incarnation.handle
        handle.supersede()
        handle.request_stop()
        if incarnation.ref.is_alive():
            # Queued behind whatever it is stuck on: it stops if it ever wakes up.
            incarnation.ref.stop(block=False)
            self._abandoned.append(incarnation)
        logger.warning(
            format_line(
                "child_abandoned",
                {"role": handle.role, "generation": handle.generation, "reason": reason},
            )
        )
