"""sd_notify(3) for the service manager: readiness, status, watchdog pings, stopping.

The datagrams go out through the ``sdnotify`` package (``SystemdNotifier``), which connects
to the AF_UNIX socket named by ``$NOTIFY_SOCKET`` (a path, or an abstract name when it
starts with ``@``). Messages are ``KEY=VALUE`` lines in one datagram. Without
``NOTIFY_SOCKET`` (run by hand, under launchd, in tests) every call is a no-op. A failed
send never raises: the bot keeps trading, the first failure is logged, and the next
message connects afresh (systemd's watchdog will notice if the pings really stop).

Watchdog pings are paced here: :meth:`ServiceNotifier.watchdog` is called whenever every
actor has answered its health ping (once per ``watchdog.ping_interval_s``), and sends
``WATCHDOG=1`` only when half of ``$WATCHDOG_USEC`` has passed since the last one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

import sdnotify

log = logging.getLogger(__name__)

_USEC_PER_S = 1_000_000


class ServiceNotifier:
    """Talks to systemd (or anything listening on ``$NOTIFY_SOCKET``); thread-safe.

    ``environ`` defaults to ``os.environ`` and is read once, at construction, for
    ``WATCHDOG_USEC`` and ``WATCHDOG_PID``; the socket is always the process's
    ``$NOTIFY_SOCKET``, as ``sdnotify`` reads it. ``monotonic`` paces the watchdog.
    """

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if environ is None else environ
        self._address = _socket_address(os.environ.get("NOTIFY_SOCKET", ""))
        self._watchdog_interval_s = _watchdog_interval_s(env)
        self._monotonic = monotonic
        self._last_watchdog: float | None = None
        self._lock = threading.Lock()
        self._transport: sdnotify.SystemdNotifier | None = None
        self._send_failed_before = False
        self._ready = threading.Event()
        """READY=1 was sent for the start: only then is a reload announced as one."""

    @property
    def enabled(self) -> bool:
        """True when a notification socket is configured."""
        return self._address is not None

    def ready(self, status: str) -> None:
        """Start-up finished: the service manager may consider us running."""
        self._ready.set()
        self.notify("READY=1", f"STATUS={status}")

    def status(self, text: str) -> None:
        """A one-line summary shown by ``systemctl status``."""
        self.notify(f"STATUS={text}")

    def watchdog(self) -> None:
        """Every actor is alive: ping systemd if half the watchdog timeout has passed.

        Nothing is sent when no watchdog is armed for this process; the first call after
        start always sends.
        """
        interval = self._watchdog_interval_s
        if interval is None:
            return
        now = self._monotonic()
        with self._lock:
            if self._last_watchdog is not None and now - self._last_watchdog < interval:
                return
            self._last_watchdog = now
        self.notify("WATCHDOG=1")

    def stopping(self, status: str = "stopping: cancelling orders") -> None:
        """Shutdown has started."""
        self.notify("STOPPING=1", f"STATUS={status}")

    def start_failed(self, reason: str, errno: int | None = None) -> None:
        """A start failed before any actor ran: the process is about to exit.

        As a stop says it (STOPPING=1), with the reason as the status line ``systemctl
        status`` shows, and ERRNO= when a system call failed (sd_notify(3): "if a service
        fails, the errno-style error code"), so the unit's status names the error.
        """
        fields = ["STOPPING=1", f"STATUS={reason}"]
        if errno:
            fields.append(f"ERRNO={errno}")
        self.notify(*fields)

    def reloading(self) -> None:
        """A config reload started; call :meth:`reloaded` when it is done.

        Before start-up is ready, nothing is said: READY=1 is owed to the start alone, and
        a READY=1 closing a reload would tell systemd that a makerd still reconciling the
        venue's orders is running.
        """
        if not self._ready.is_set():
            return
        # MONOTONIC_USEC pairs the reload with its READY=1 (systemd >= 253 uses it;
        # older versions ignore unknown keys).
        monotonic_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.notify("RELOADING=1", f"MONOTONIC_USEC={monotonic_usec}")

    def reloaded(self, status: str) -> None:
        """A config reload finished: READY=1 again once started, the status line before."""
        if self._ready.is_set():
            self.notify("READY=1", f"STATUS={status}")
        else:
            self.status(status)

    def extend_timeout(self, seconds: float) -> None:
        """Ask for ``seconds`` more before the start/stop timeout; repeat before it runs out."""
        self.notify(f"EXTEND_TIMEOUT_USEC={max(0, int(seconds * _USEC_PER_S))}")

    def watchdog_interval_s(self) -> float | None:
        """How often to ping: half of ``$WATCHDOG_USEC``; None when no watchdog is armed
        for this process (unset, invalid, or ``$WATCHDOG_PID`` names another process)."""
        return self._watchdog_interval_s

    def notify(self, *fields: str) -> bool:
        """Send ``fields`` as one datagram; True if sent, False if disabled or failed."""
        if self._address is None:
            return False
        # A newline inside a value would start a new KEY=VALUE line; sdnotify encodes
        # Latin-1, so anything outside it is replaced rather than failing the send.
        text = "\n".join(field.replace("\n", " ") for field in fields)
        text = text.encode("latin-1", "replace").decode("latin-1")
        with self._lock:
            try:
                if self._transport is None:
                    # debug=True: sdnotify raises instead of swallowing, so we can log it.
                    self._transport = sdnotify.SystemdNotifier(debug=True)
                self._transport.notify(text)
            except OSError as error:
                self._drop_transport()
                if not self._send_failed_before:
                    log.warning("sd_notify to %r failed: %s", self._address, error)
                self._send_failed_before = True
                return False
        return True

    def close(self) -> None:
        """Close the socket; a later notification opens a new one."""
        with self._lock:
            self._drop_transport()

    def _drop_transport(self) -> None:
        transport, self._transport = self._transport, None
        sock: socket.socket | None = getattr(transport, "socket", None)
        if sock is not None:
            sock.close()


def _socket_address(value: str) -> str | None:
    if value.startswith("@"):
        # Linux abstract namespace: a leading NUL byte instead of a filesystem path.
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    if value:
        log.warning("NOTIFY_SOCKET=%r is not a path or an abstract name; not notifying", value)
    return None


def _watchdog_interval_s(env: Mapping[str, str]) -> float | None:
    pid = env.get("WATCHDOG_PID")
    if pid is not None and pid.strip() != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    # sd_watchdog_enabled(3) recommends pinging at half the timeout.
    return usec / _USEC_PER_S / 2
