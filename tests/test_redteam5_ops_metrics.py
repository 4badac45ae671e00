"""The /metrics endpoint against scrapers that misbehave: real sockets on loopback."""

from __future__ import annotations

import socket
import urllib.request

from prometheus_client import CollectorRegistry, Counter

from makerd.daemon.metrics_http import REQUEST_TIMEOUT_S, serve_metrics


def test_a_connection_that_never_finishes_its_request_is_closed_and_scrapes_go_on() -> None:
    registry = CollectorRegistry()
    Counter("makerd_quotes", "quotes", registry=registry).inc()
    running = serve_metrics(registry, port=0)
    try:
        with socket.create_connection(("127.0.0.1", running.port)) as stalled:
            stalled.sendall(b"GET /metrics HTTP/1.1\r\n")  # and never the blank line
            stalled.settimeout(REQUEST_TIMEOUT_S + 3)
            # Before, each such connection held a server thread for as long as it stayed
            # open: hundreds of them were hundreds of threads, never released.
            closed = stalled.recv(4096)
            url = f"http://127.0.0.1:{running.port}/metrics"
            with urllib.request.urlopen(url, timeout=5) as page:
                body = page.read().decode()
    finally:
        running.shutdown()

    assert closed == b"", "the server closes a request that never completes"
    assert "makerd_quotes_total 1.0" in body
