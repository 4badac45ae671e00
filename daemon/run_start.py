"""How far a session's start got, and how a start that failed part way is undone.

The metrics port is bound before the exchange is asked anything (a port taken refuses the
start with no exchange request and no session row, which systemd's Restart= would otherwise
repeat at every retry). A session's start then opens, in order: the metrics server's serving
thread, the tree (observers, router, supervisor), the control socket, the venue's I/O, the
actors, the control socket's thread and the ticker. Any of them may fail (a journal that
refuses a write, an actor whose start raises). Whatever failed, what was opened is closed,
the failure is one line, and the session ends in the journal with the failure as its reason.
Before the actors start nothing can have placed an order (only the order manager places, and
only once it runs), so closing is enough; from the actors' start on the run stops as any run
does, sweeping the venue until it confirms that nothing rests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TextIO

from prometheus_client import CollectorRegistry

from makerd.config.model import MetricsConfig
from makerd.daemon.control_server import ControlServer
from makerd.daemon.logs import say_error
from makerd.daemon.metrics_http import MetricsServer, bind_metrics
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

    @property
    def errno(self) -> int | None:
        """The error number of a failed system call (a port taken: EADDRINUSE), if it was one."""
        return self.error.errno if isinstance(self.error, OSError) else None


def start_failed(step: str, error: Exception) -> StartFailure:
    """The failure of start step ``step``, logged and said in one line."""
    failure = StartFailure(step=step, error=error)
    log.error(
        "event=start_failed step=%s error_type=%s error=%r",
        failure.step,
        type(error).__name__,
        str(error),
    )
    say_error(f"makerd: {failure.reason}; stopping")
    return failure


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
        return start_failed(self.step, error)

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


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionMetrics:
    """The session's registry and its metrics server: bound before the venue is built,
    serving once the session starts (``server`` None: metrics disabled)."""

    config: MetricsConfig
    registry: CollectorRegistry
    server: MetricsServer | None

    @classmethod
    def bind(cls, config: MetricsConfig) -> SessionMetrics:
        """Listen where the config says; MetricsPortError (with the bind's errno) if not."""
        registry = CollectorRegistry()
        if not config.enabled:
            return cls(config=config, registry=registry, server=None)
        try:
            server = bind_metrics(registry, config.host, config.port)
        except OSError as error:
            refused = MetricsPortError(
                f"cannot serve metrics on {config.host}:{config.port}: {error.strerror}"
            )
            refused.errno = error.errno
            raise refused from None
        return cls(config=config, registry=registry, server=server)

    def serve(self, out: TextIO) -> MetricsServer | None:
        """Start answering scrapes; the server to stop at the session's end."""
        if self.server is not None:
            self.server.serve()
            host, port = self.config.host, self.server.port
            print(f"makerd: metrics on http://{host}:{port}/metrics", file=out)
        return self.server

    def close(self) -> None:
        """Release the port; nothing more after the session's stop already did."""
        if self.server is not None:
            self.server.shutdown()
