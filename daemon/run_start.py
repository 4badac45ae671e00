"""How far a session's start got, and how a start that failed part way is undone.

A session's start opens, in order: the metrics server, the tree (observers, router,
supervisor), the control socket, the venue's I/O, the actors, the control socket's
thread and the ticker. Any of them may fail (a port taken, a journal that refuses a
write, an actor whose start raises). Whatever failed, what was opened is closed, the
failure is one line, and the session ends in the journal with the failure as its reason.
Before the actors start nothing can have placed an order (only the order manager
places, and only once it runs), so closing is enough; from the actors' start on the run
stops as any run does, sweeping the venue until it confirms that nothing rests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TextIO

from prometheus_client import CollectorRegistry

from makerd.config.model import MetricsConfig
from makerd.daemon.control_server import ControlServer
from makerd.daemon.logs import say_error
from makerd.daemon.metrics import MetricsServer, serve_metrics
from makerd.daemon.run_stop import Running
from makerd.venues.base import ProcessVenue

log = logging.getLogger("makerd")


class MetricsPortError(OSError):
    """The metrics server cannot listen where the config says (a port taken, say)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StartFailure:
    """A start step that raised: which one, and what it raised."""

    step: str
    error: Exception

    @property
    def reason(self) -> str:
        """The run's ending reason, as the journal's ``stopped`` row and the exit line say it."""
        detail = str(self.error) or type(self.error).__name__
        return f"start failed at {self.step}: {detail}"


class StartProgress:
    """What a session's start has opened so far; each step names itself before it runs."""

    def __init__(self, venue: ProcessVenue) -> None:
        self.venue = venue
        self.step = "metrics"
        self.server: MetricsServer | None = None
        self.control: ControlServer | None = None
        self.running: Running | None = None
        """Set just before the actors start: from then on orders may rest at the venue."""

    def failed(self, error: Exception) -> StartFailure:
        failure = StartFailure(step=self.step, error=error)
        log.error(
            "event=start_failed step=%s error_type=%s error=%r",
            failure.step,
            type(error).__name__,
            str(error),
        )
        say_error(f"makerd: {failure.reason}; stopping")
        return failure

    def close_unstarted(self) -> None:
        """Close what a start that failed before the actors opened (nothing was traded).

        The venue is stopped whether or not its start returned: a start that raised part
        way may have left its I/O loop running.
        """
        if self.control is not None:
            self.control.stop()  # removes the socket file
        self.venue.stop()
        if self.server is not None:
            self.server.shutdown()


def serve_session_metrics(
    config: MetricsConfig, registry: CollectorRegistry, out: TextIO
) -> MetricsServer | None:
    """The metrics server, listening (None when disabled); MetricsPortError if it cannot."""
    if not config.enabled:
        return None
    try:
        server = serve_metrics(registry, config.host, config.port)
    except OSError as error:
        raise MetricsPortError(
            f"cannot serve metrics on {config.host}:{config.port}: {error.strerror}"
        ) from None
    print(f"makerd: metrics on http://{config.host}:{server.port}/metrics", file=out)
    return server
