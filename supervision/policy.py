"""The decisions of a supervisor: which exits restart what, and when to give up.

Runs on the supervisor thread only (see :mod:`supervision.tree`), one command at a time.

Hung children: a Python thread cannot be killed. An unresponsive child's incarnation is
abandoned (unregistered, a stop queued that it may never reach, its handle marked
superseded) and a replacement started, counted as a restart of kind HUNG. If the same role
is reported unresponsive again within ``period_s`` of that replacement, replacing it did not
cure it: the supervisor gives up with reason ``"hung: <role>"`` so the process can exit and
its service manager start a fresh one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from makerd.supervision.child import ExitReport
from makerd.supervision.intensity import RestartIntensity
from makerd.supervision.model import (
    ABNORMAL_EXITS,
    Escalation,
    ExitKind,
    RestartType,
    Strategy,
    describe_error,
)
from makerd.supervision.reporting import RestartReporter
from makerd.supervision.roster import ChildRoster, ChildSlot


class RestartPolicy:
    """OTP semantics over a :class:`ChildRoster`: restart types, strategies, intensity."""

    def __init__(
        self,
        *,
        roster: ChildRoster,
        strategy: Strategy,
        intensity: RestartIntensity,
        report: RestartReporter,
        monotonic: Callable[[], float],
        on_escalate: Callable[[Escalation], None],
        retry_later: Callable[[str, str], None],
        publish: Callable[[], None],
        terminated: threading.Event,
    ) -> None:
        self._roster = roster
        self._strategy = strategy
        self._intensity = intensity
        self._report = report
        self._monotonic = monotonic
        self._on_escalate = on_escalate
        self._retry_later = retry_later
        self._publish = publish
        self._terminated = terminated
        self._hang_replaced_at: dict[str, float] = {}
        self.gave_up = False
        self.left_running: list[str] = []
        """Roles whose incarnations did not stop in time when the children were stopped."""

    def on_exit_report(self, report: ExitReport) -> None:
        """Act on a child's exit; reports from superseded generations are ignored."""
        slot = self._roster.find(report.role)
        current = slot.current if slot is not None else None
        if slot is None or current is None or current.handle.generation != report.generation:
            self._report.event(
                logging.DEBUG,
                "stale_exit_ignored",
                role=report.role,
                generation=report.generation,
                kind=report.kind.value,
            )
            return
        slot.current = None
        error = describe_error(report.error) if report.error is not None else None
        restart = slot.spec.restart
        if restart is RestartType.TEMPORARY or (
            restart is RestartType.TRANSIENT and report.kind not in ABNORMAL_EXITS
        ):
            self._retire(slot, report.kind, error)
            return
        self._restart(slot, kind=report.kind, error=error)

    def on_unresponsive(self, role: str, silent_for_s: float) -> None:
        """Replace a hung child once; give up if it hangs again within the period."""
        slot = self._roster.find(role)
        if slot is None or slot.current is None:
            self._report.event(logging.INFO, "unresponsive_ignored", role=role)
            return
        now = self._monotonic()
        error = f"unresponsive for {silent_for_s:.1f}s"
        replaced_at = self._hang_replaced_at.get(role)
        if replaced_at is not None and now - replaced_at <= self._intensity.period_s:
            self.give_up(
                role=role,
                generation=slot.generation,
                kind=ExitKind.HUNG,
                error=error,
                reason=f"hung: {role}",
            )
            return
        self._hang_replaced_at[role] = now
        self._roster.abandon(slot, reason="hung")
        self._restart(slot, kind=ExitKind.HUNG, error=error)

    def on_retry(self, role: str, error: str) -> None:
        """Try again to start a child whose restart failed (counted like any restart)."""
        slot = self._roster.find(role)
        if slot is not None and slot.status == "restarting":
            self._restart(slot, kind=ExitKind.START_FAILED, error=error)

    def give_up(
        self, *, role: str, generation: int, kind: ExitKind, error: str | None, reason: str
    ) -> None:
        """Report once, escalate once, then stop every child in reverse start order."""
        self.gave_up = True
        self._report.gave_up(
            role=role, generation=generation, kind=kind, error=error, reason=reason
        )
        try:
            self._on_escalate(Escalation(kind=kind, reason=reason))
        except Exception as failure:
            # Stop the children anyway: an unsupervised tree is worse than a failed callback.
            self._report.failure("escalation_failed", failure)
        self.shut_down()

    def shut_down(self) -> None:
        """Stop every child in reverse start order and mark the supervisor terminated."""
        self.left_running = self._roster.stop_all()
        self._publish()
        self._report.event(logging.INFO, "supervisor_stopped", abandoned=tuple(self.left_running))
        self._terminated.set()

    def _retire(self, slot: ChildSlot, kind: ExitKind, error: str | None) -> None:
        dropped = slot.spec.restart is RestartType.TEMPORARY
        if dropped:
            self._roster.drop(slot)
        else:
            slot.status = "stopped"
        self._publish()
        self._report.event(
            logging.INFO,
            "child_exited",
            role=slot.role,
            generation=slot.generation,
            kind=kind.value,
            error=error,
            action="dropped" if dropped else "kept_stopped",
        )

    def _restart(self, slot: ChildSlot, *, kind: ExitKind, error: str | None) -> None:
        now = self._monotonic()
        if self._intensity.add_restart(now):
            self._restart_group(slot, kind=kind, error=error)
            return
        reason = (
            f"restart intensity exceeded: {self._intensity.count(now)} restarts"
            f" in {self._intensity.period_s:g}s (max {self._intensity.max_restarts});"
            f" last: {slot.role} {kind.value}" + (f" ({error})" if error else "")
        )
        self.give_up(
            role=slot.role, generation=slot.generation, kind=kind, error=error, reason=reason
        )

    def _restart_group(self, slot: ChildSlot, *, kind: ExitKind, error: str | None) -> None:
        """Stop the strategy's siblings in reverse start order, then start all in order."""
        group = self._group_of(slot)
        for member in reversed(group):
            if member is not slot and member.current is not None:
                self._roster.stop(member)
        # OTP: temporary siblings stopped as collateral are not restarted.
        to_start = [m for m in group if m is slot or m.spec.restart is not RestartType.TEMPORARY]
        for member in group:
            if member in to_start:
                member.status = "restarting"
            else:
                self._roster.drop(member)
        siblings = tuple(member.role for member in to_start if member is not slot)
        for member in to_start:
            start_error = self._roster.start(member)
            self._publish()
            if start_error is not None:
                described = describe_error(start_error)
                self._report.restart(
                    role=slot.role,
                    generation=slot.generation,
                    kind=kind,
                    error=error,
                    action="restart_failed",
                    also_restarted=siblings,
                    start_error=described if member is slot else f"{member.role}: {described}",
                )
                # Through the queue, so stop() and other reports get a turn in between.
                self._retry_later(member.role, described)
                return
        self._report.restart(
            role=slot.role,
            generation=slot.generation,
            kind=kind,
            error=error,
            action="restarted",
            also_restarted=siblings,
        )

    def _group_of(self, slot: ChildSlot) -> list[ChildSlot]:
        slots = self._roster.slots
        if self._strategy is Strategy.ONE_FOR_ONE:
            return [slot]
        if self._strategy is Strategy.REST_FOR_ONE:
            return slots[slots.index(slot) :]
        return list(slots)
