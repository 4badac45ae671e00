"""The loopback HTTP endpoint serving ``/metrics``, and its last words before exit.

A kill-switch trip or a supervisor give-up ends the process within a fraction of a
second, usually before Prometheus scrapes again, so the state that explains the exit
would never be stored. When such a final state is set and something has been scraping,
:meth:`MetricsServer.shutdown` first waits for one more scrape (at most twice the
observed scrape interval plus a second, and never more than ``MAX_LINGER_S``). A run
nobody scrapes, and every ordinary stop, exits at once.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

MAX_LINGER_S = 15.0
REQUEST_TIMEOUT_S = 5.0
"""How long a scrape's connection may wait for the scraper to send or take data. Without
it, a connection that never finished its request held a server thread until it closed."""
_SHUTDOWN_POLL_S = 0.1
# Samples that, when non-zero, explain why the process is about to exit.
_FINAL_STATES: tuple[tuple[str, dict[str, str]], ...] = (
    ("makerd_kill_switch_state", {"makerd_kill_switch_state": "tripped"}),
    ("makerd_supervisor_intensity_exceeded_total", {}),
)


class ScrapeLog:
    """When the last scrapes finished (monotonic seconds); thread-safe."""

    def __init__(self) -> None:
        self._done = threading.Condition()
        self._times: list[float] = []

    def record(self) -> None:
        with self._done:
            self._times = [*self._times[-1:], time.monotonic()]
            self._done.notify_all()

    def seen(self) -> bool:
        with self._done:
            return bool(self._times)

    def interval_s(self) -> float | None:
        """The gap between the last two scrapes; None before two."""
        with self._done:
            if len(self._times) < 2:
                return None
            return self._times[1] - self._times[0]

    def wait_for_scrape_after(self, start: float, timeout_s: float) -> bool:
        """Block until a scrape finishes after ``start``; False on timeout."""
        with self._done:
            return self._done.wait_for(
                lambda: bool(self._times) and self._times[-1] > start, timeout_s
            )


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    # Request threads are daemons so a hung scraper cannot hold up process exit.
    daemon_threads = True
    # socketserver's default queue of 5 dropped the connections of a burst of scrapes,
    # which then waited for the client's SYN retry (1 s, then 3 s more).
    request_queue_size = socket.SOMAXCONN


class _QuietHandler(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT_S

    def log_message(self, format: str, *args: object) -> None:
        """Scrapes are not worth a log line each."""


@dataclass(frozen=True, slots=True)
class MetricsServer:
    """A running ``/metrics`` endpoint; ``port`` is the bound port (useful with port 0)."""

    server: WSGIServer
    thread: threading.Thread
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    scrapes: ScrapeLog = field(default_factory=ScrapeLog)
    # Set while shutdown waits for the last scrape (tests and logs can tell it apart).
    lingering: threading.Event = field(default_factory=threading.Event)
    # Set by the first shutdown: a start that failed part way closes what it bound, and a
    # second close must not wait for a last scrape again.
    closed: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def serve(self) -> None:
        """Answer scrapes from now on; until then connections wait in the listen queue."""
        self.thread.start()

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Stop serving (after one last scrape if the final state matters), close, join.

        Also closes a server that never served; a second call does nothing.
        """
        if self.closed.is_set():
            return
        self.closed.set()
        if self.thread.ident is None:  # bound, never served: serve_forever is not running
            self.server.server_close()
            return
        if self.scrapes.seen() and _final_state_set(self.registry):
            interval = self.scrapes.interval_s()
            # One scrape so far: a scraper exists, its interval is not known yet.
            linger = MAX_LINGER_S if interval is None else min(2 * interval + 1.0, MAX_LINGER_S)
            start = time.monotonic()
            self.lingering.set()
            self.scrapes.wait_for_scrape_after(start, linger)
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout_s)


def _final_state_set(registry: CollectorRegistry) -> bool:
    for family in registry.collect():
        for sample in family.samples:
            for name, labels in _FINAL_STATES:
                if sample.name == name and sample.value and labels.items() <= sample.labels.items():
                    return True
    return False


def _recording(app: Callable[..., Iterable[bytes]], scrapes: ScrapeLog) -> Callable[..., Any]:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = list(app(environ, start_response))  # rendered now, so "done" means done
        scrapes.record()
        return body

    return wrapped


def serve_metrics(
    registry: CollectorRegistry, host: str = "127.0.0.1", port: int = 9108
) -> MetricsServer:
    """Serve ``registry`` at ``http://host:port/metrics`` from a daemon thread.

    Like ``prometheus_client.start_http_server`` but with loopback as the default and a
    short poll interval, so :meth:`MetricsServer.shutdown` returns in about 0.1 s.
    Raises OSError when the address cannot be bound (port in use, unknown host).
    """
    server = bind_metrics(registry, host, port)
    server.serve()
    return server


def bind_metrics(
    registry: CollectorRegistry, host: str = "127.0.0.1", port: int = 9108
) -> MetricsServer:
    """Listen at ``host:port`` for ``registry``'s scrapes, answered once :meth:`serve`
    is called (a start binds before it asks the exchange anything, serves once it runs).

    Raises OSError when the address cannot be bound (port in use, unknown host).
    """
    family, _, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    server_class = type("MetricsHTTPServer", (_ThreadingServer,), {"address_family": family})
    scrapes = ScrapeLog()
    server: WSGIServer = make_server(
        str(address[0]),
        port,
        _recording(make_wsgi_app(registry), scrapes),
        server_class,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": _SHUTDOWN_POLL_S},
        name="metrics-http",
        daemon=True,
    )
    return MetricsServer(server=server, thread=thread, registry=registry, scrapes=scrapes)
