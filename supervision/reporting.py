"""How a supervisor tells the world: one structured log line and one record per decision."""

from __future__ import annotations

import logging
from collections.abc import Callable

from makerd.supervision.intensity import RestartIntensity
from makerd.supervision.logline import format_line
from makerd.supervision.model import ExitKind, RestartAction, RestartRecord, Strategy

logger = logging.getLogger("makerd.supervisor")


class RestartReporter:
    """Logs on ``makerd.supervisor`` and hands each restart record to ``on_restart``."""

    def __init__(
        self,
        *,
        name: str,
        strategy: Strategy,
        intensity: RestartIntensity,
        on_restart: Callable[[RestartRecord], None] | None,
        monotonic: Callable[[], float],
    ) -> None:
        self._name = name
        self._strategy = strategy
        self._intensity = intensity
        self._on_restart = on_restart
        self._monotonic = monotonic

    def restart(
        self,
        *,
        role: str,
        generation: int,
        kind: ExitKind,
        error: str | None,
        action: RestartAction,
        also_restarted: tuple[str, ...] = (),
        start_error: str | None = None,
    ) -> None:
        """One ``event=child_restarted`` line (WARNING) and one record."""
        record = self._record(
            role=role,
            generation=generation,
            kind=kind,
            error=error,
            action=action,
            also_restarted=also_restarted,
            start_error=start_error,
        )
        self.event(logging.WARNING, "child_restarted", **self._fields(record))
        self._notify(record)

    def gave_up(
        self, *, role: str, generation: int, kind: ExitKind, error: str | None, reason: str
    ) -> None:
        """One ``event=supervisor_gave_up`` line (ERROR) and one record."""
        record = self._record(
            role=role,
            generation=generation,
            kind=kind,
            error=error,
            action="gave_up",
            also_restarted=(),
            start_error=None,
        )
        self.event(logging.ERROR, "supervisor_gave_up", **self._fields(record), reason=reason)
        self._notify(record)

    def event(self, level: int, event: str, **fields: object) -> None:
        """Any other supervision event, as one line tagged with the supervisor's name."""
        logger.log(level, format_line(event, {**fields, "supervisor": self._name}))

    def failure(self, event: str, error: BaseException) -> None:
        """An exception from a callback or from the supervisor itself, with its traceback."""
        logger.error(format_line(event, {"supervisor": self._name}), exc_info=error)

    def _record(
        self,
        *,
        role: str,
        generation: int,
        kind: ExitKind,
        error: str | None,
        action: RestartAction,
        also_restarted: tuple[str, ...],
        start_error: str | None,
    ) -> RestartRecord:
        now = self._monotonic()
        return RestartRecord(
            role=role,
            generation=generation,
            kind=kind,
            error=error,
            restarts_in_window=self._intensity.count(now),
            max_restarts=self._intensity.max_restarts,
            action=action,
            ts_monotonic=now,
            also_restarted=also_restarted,
            start_error=start_error,
        )

    def _fields(self, record: RestartRecord) -> dict[str, object]:
        return {
            "role": record.role,
            "generation": record.generation,
            "kind": record.kind.value,
            "error": record.error,
            "restarts_in_window": record.restarts_in_window,
            "max_restarts": record.max_restarts,
            "period_s": self._intensity.period_s,
            "strategy": self._strategy.value,
            "action": record.action,
            "also_restarted": record.also_restarted,
            "start_error": record.start_error,
        }

    def _notify(self, record: RestartRecord) -> None:
        if self._on_restart is None:
            return
        try:
            self._on_restart(record)
        except Exception as error:
            # The restart itself happened; a broken journal must not stop supervision.
            self.failure("on_restart_failed", error)
