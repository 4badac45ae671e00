"""Notifications to people: a Slack/Discord-compatible webhook and/or email, on the events
that need someone (kill-switch trips, supervisor give-ups, restart bursts, stops that could
not confirm zero open orders).

The notifier listens to makerd's own structured log records (``event=kill_switch_tripped``,
``event=supervisor_gave_up``, ``event=child_restarted`` with a high ``restarts_in_window``,
``event=orders_left_open``), so it needs no hook in the actors. :meth:`Notifier.emit` only
puts a notice on a bounded queue (dropping, and counting, when it is full); one daemon
thread delivers, so a slow mail server never blocks an actor. Each kind of notice goes out
at most once per ``min_interval_s``; suppressed ones are counted in the next. Every text
passes through :func:`makerd.logs.redact`, and delivery errors are logged without the
webhook URL or the SMTP password.

Configured from the environment (all optional; nothing set, nothing sent):

- ``MAKERD_NOTIFY_WEBHOOK_URL``: the webhook (a secret: it carries its own token);
  ``MAKERD_NOTIFY_WEBHOOK_FORMAT``: ``slack`` (``{"text": ...}``, the default) or
  ``discord`` (``{"content": ...}``).
- ``MAKERD_NOTIFY_SMTP_HOST``, ``MAKERD_NOTIFY_SMTP_PORT`` (default 587),
  ``MAKERD_NOTIFY_SMTP_FROM``, ``MAKERD_NOTIFY_SMTP_TO`` (comma-separated),
  ``MAKERD_NOTIFY_SMTP_USER``, ``MAKERD_NOTIFY_SMTP_STARTTLS`` (``1`` default, ``0`` off),
  and the password in ``MAKERD_NOTIFY_SMTP_PASSWORD`` or, under systemd,
  ``$CREDENTIALS_DIRECTORY/makerd_smtp_password``.
- ``MAKERD_NOTIFY_RESTART_BURST`` (default 3): restarts in the supervisor's window that
  count as a burst; ``MAKERD_NOTIFY_MIN_INTERVAL_S`` (default 300).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import queue
import smtplib
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from makerd.daemon.logs import parse_fields, redact

QUEUE_SIZE = 100
DELIVERY_TIMEOUT_S = 10.0
FLUSH_AT_EXIT_S = 10.0
log = logging.getLogger("makerd.alerts")


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    kind: str  # kill_switch, supervisor_gave_up, restart_burst, orders_left_open
    title: str
    body: str


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, notice: Notice) -> None: ...


@dataclass(frozen=True, slots=True)
class WebhookChannel:
    url: str = field(repr=False)
    format: str = "slack"
    name: str = "webhook"

    def send(self, notice: Notice) -> None:
        text = f"{notice.title}\n{notice.body}"
        payload = {"content": text} if self.format == "discord" else {"text": text}
        request = urllib.request.Request(
            self.url,
            data=json.dumps(payload).encode("utf-8"),
            headers={"Content-Type": "application/json", "User-Agent": "makerd"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_S) as response:
            response.read()


@dataclass(frozen=True, slots=True)
class SmtpChannel:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    name: str = "smtp"

    def send(self, notice: Notice) -> None:
        message = EmailMessage()
        message["Subject"] = notice.title
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message.set_content(notice.body)
        with smtplib.SMTP(self.host, self.port, timeout=DELIVERY_TIMEOUT_S) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user and self.password:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


class Notifier(logging.Handler):
    """A logging handler that turns makerd's alarm events into notices, sent off-thread."""

    def __init__(
        self,
        channels: list[Channel],
        *,
        restart_burst: int = 3,
        min_interval_s: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(level=logging.WARNING)
        self._channels = channels
        self._restart_burst = restart_burst
        self._min_interval_s = min_interval_s
        self._monotonic = monotonic
        self._queue: queue.Queue[Notice | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self._last_sent: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self.dropped = 0
        self.delivered: dict[str, int] = {channel.name: 0 for channel in channels}
        self._thread = threading.Thread(target=self._deliver_all, name="notifier", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        # Runs on the logging thread (an actor's): parse, enqueue, never wait.
        if record.name == log.name:
            return  # our own delivery errors must not notify about themselves
        try:
            notice = self._notice_for(record)
        except Exception:
            self.handleError(record)
            return
        if notice is None or not self._due(notice.kind):
            return
        try:
            self._queue.put_nowait(notice)
        except queue.Full:
            self.dropped += 1

    def close(self, timeout_s: float = FLUSH_AT_EXIT_S) -> None:
        """Deliver what is queued (up to ``timeout_s``), then stop the thread."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout_s)
        self._thread.join(timeout_s)
        super().close()

    def _due(self, kind: str) -> bool:
        now = self._monotonic()
        last = self._last_sent.get(kind)
        if last is not None and now - last < self._min_interval_s:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return False
        self._last_sent[kind] = now
        return True

    def _notice_for(self, record: logging.LogRecord) -> Notice | None:
        event, fields = parse_fields(redact(record.getMessage()))
        host = socket.gethostname()
        detail = " ".join(f"{key}={value}" for key, value in fields.items())
        if event == "kill_switch_tripped":
            kind, title = "kill_switch", f"makerd on {host}: kill switch tripped"
        elif event == "supervisor_gave_up":
            kind, title = "supervisor_gave_up", f"makerd on {host}: supervisor gave up"
        elif event == "child_restarted" and _int(fields.get("restarts_in_window")) >= (
            self._restart_burst
        ):
            kind, title = "restart_burst", f"makerd on {host}: restart burst"
        elif event == "orders_left_open":
            kind, title = "orders_left_open", f"makerd on {host}: stopped with orders open"
        else:
            return None
        suppressed = self._suppressed.pop(kind, 0)
        if suppressed:
            detail += f"\n({suppressed} more like this suppressed since the last notice)"
        return Notice(kind=kind, title=title, body=redact(detail))

    def _deliver_all(self) -> None:
        while True:
            notice = self._queue.get()
            if notice is None:
                return
            for channel in self._channels:
                try:
                    channel.send(notice)
                    self.delivered[channel.name] += 1
                except (OSError, smtplib.SMTPException, ValueError) as error:
                    # The error's text may hold the URL (with its token): type and errno only.
                    log.warning(
                        "event=notification_failed channel=%s kind=%s error=%s",
                        channel.name,
                        notice.kind,
                        type(error).__name__,
                    )


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0


def channels_from_environ(environ: Mapping[str, str]) -> list[Channel]:
    channels: list[Channel] = []
    url = environ.get("MAKERD_NOTIFY_WEBHOOK_URL", "").strip()
    if url:
        if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
            raise ValueError("MAKERD_NOTIFY_WEBHOOK_URL must be an http(s) URL")
        channels.append(
            WebhookChannel(url, environ.get("MAKERD_NOTIFY_WEBHOOK_FORMAT", "slack").lower())
        )
    host = environ.get("MAKERD_NOTIFY_SMTP_HOST", "").strip()
    if host:
        recipients = tuple(
            to.strip() for to in environ.get("MAKERD_NOTIFY_SMTP_TO", "").split(",") if to.strip()
        )
        if not recipients:
            raise ValueError("MAKERD_NOTIFY_SMTP_TO names no recipient")
        channels.append(
            SmtpChannel(
                host=host,
                port=int(environ.get("MAKERD_NOTIFY_SMTP_PORT", "587")),
                sender=environ.get("MAKERD_NOTIFY_SMTP_FROM", f"makerd@{socket.gethostname()}"),
                recipients=recipients,
                user=environ.get("MAKERD_NOTIFY_SMTP_USER") or None,
                password=_smtp_password(environ),
                starttls=environ.get("MAKERD_NOTIFY_SMTP_STARTTLS", "1") != "0",
            )
        )
    return channels


def _smtp_password(environ: Mapping[str, str]) -> str | None:
    password = environ.get("MAKERD_NOTIFY_SMTP_PASSWORD")
    if password:
        return password
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if credentials:
        path = Path(credentials) / "makerd_smtp_password"
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
    return None


def install_notifier(environ: Mapping[str, str] | None = None) -> Notifier | None:
    """Attach a :class:`Notifier` to the root logger if the environment configures one."""
    env = os.environ if environ is None else environ
    try:
        channels = channels_from_environ(env)
    except ValueError as error:
        log.error("event=notifier_disabled reason=%r", str(error))
        return None
    if not channels:
        return None
    notifier = Notifier(
        channels,
        restart_burst=int(env.get("MAKERD_NOTIFY_RESTART_BURST", "3")),
        min_interval_s=float(env.get("MAKERD_NOTIFY_MIN_INTERVAL_S", "300")),
    )
    logging.getLogger().addHandler(notifier)
    atexit.register(notifier.close)
    log.info("event=notifier_enabled channels=%s", ",".join(channel.name for channel in channels))
    return notifier
