"""Notifications delivered to a real local webhook server and a real local SMTP server."""

from __future__ import annotations

import io
import json
import logging
import queue
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from makerd.daemon.alerts import Notifier, SmtpChannel, WebhookChannel, channels_from_environ
from makerd.daemon.exit_codes import EXIT_KILL_SWITCH
from makerd.daemon.logs import configure_logging
from tests.processes import MakerdProcess, write_config
from tests.prometheus_kit import free_port

KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
TOKEN = "T0KEN-in-the-webhook-path"


class Webhook:
    """An HTTP server on loopback that queues every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.bodies: queue.Queue[dict[str, Any]] = queue.Queue()
        self.release = threading.Event()
        self.release.set()
        received, release = self.bodies, self.release

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                received.put(json.loads(self.rfile.read(length)))
                release.wait(30)
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/{TOKEN}"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: queue.Queue[bytes] = queue.Queue()

    async def handle_DATA(  # noqa: N802  (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.put(envelope.content)
        return "250 OK"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    server = Webhook()
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def alarm_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("makerd.test_alerts")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)


def test_a_kill_switch_trip_goes_to_the_webhook_as_slack_json(
    webhook: Webhook, alarm_logger: logging.Logger
) -> None:
    notifier = Notifier([WebhookChannel(webhook.url)])
    alarm_logger.addHandler(notifier)

    alarm_logger.error("event=kill_switch_tripped reason=%s detail=%r", "session_loss", "pnl -201")
    body = webhook.bodies.get(timeout=10)
    notifier.close()

    assert set(body) == {"text"}
    assert "kill switch tripped" in body["text"]
    assert "reason=session_loss" in body["text"]
    assert "detail=pnl -201" in body["text"]


def test_discord_format_sends_content(webhook: Webhook, alarm_logger: logging.Logger) -> None:
    notifier = Notifier([WebhookChannel(webhook.url, "discord")])
    alarm_logger.addHandler(notifier)

    alarm_logger.error("event=orders_left_open count=%d", 2)
    body = webhook.bodies.get(timeout=10)
    notifier.close()

    assert set(body) == {"content"}
    assert "stopped with orders open" in body["content"]
    assert "count=2" in body["content"]


def test_a_supervisor_give_up_arrives_by_email(
    smtp: tuple[Controller, Mailbox], alarm_logger: logging.Logger
) -> None:
    controller, mailbox = smtp
    channel = SmtpChannel(
        host="127.0.0.1",
        port=controller.port,
        sender="makerd@example.org",
        recipients=("ops@example.org",),
        starttls=False,
    )
    notifier = Notifier([channel])
    alarm_logger.addHandler(notifier)

    alarm_logger.error(
        "event=supervisor_gave_up role=order_manager kind=crashed restarts_in_window=3"
    )
    mail = message_from_bytes(mailbox.messages.get(timeout=10))
    notifier.close()

    assert "supervisor gave up" in str(mail["Subject"])
    assert mail["To"] == "ops@example.org"
    assert "role=order_manager" in str(mail.get_payload())


def test_restarts_notify_only_from_the_burst_threshold_and_repeats_are_rate_limited(
    webhook: Webhook, alarm_logger: logging.Logger
) -> None:
    notifier = Notifier([WebhookChannel(webhook.url)], restart_burst=3, min_interval_s=3600)
    alarm_logger.addHandler(notifier)

    for count in range(1, 7):
        alarm_logger.warning(
            "event=child_restarted role=quoter kind=crashed restarts_in_window=%d", count
        )
    alarm_logger.error("event=kill_switch_tripped reason=operator detail=x")
    first = webhook.bodies.get(timeout=10)
    second = webhook.bodies.get(timeout=10)
    notifier.close()

    assert "restart burst" in first["text"]
    assert "restarts_in_window=3" in first["text"]
    assert "kill switch" in second["text"], "another kind is not held back by the burst's limit"
    assert webhook.bodies.empty(), "restarts 4 to 6 were suppressed"


def test_a_stuck_webhook_never_blocks_the_logging_thread(
    webhook: Webhook, alarm_logger: logging.Logger
) -> None:
    webhook.release.clear()  # the server holds every request until released
    notifier = Notifier([WebhookChannel(webhook.url)], min_interval_s=0)
    alarm_logger.addHandler(notifier)

    for _ in range(300):  # more than the queue holds while delivery is stuck
        alarm_logger.error("event=kill_switch_tripped reason=operator detail=x")
    dropped = notifier.dropped
    webhook.release.set()
    notifier.close(timeout_s=60)

    assert dropped > 0, "a full queue drops instead of waiting"
    assert notifier.delivered["webhook"] >= 1


def test_secrets_never_reach_a_notice_or_the_log_of_a_failed_delivery(
    webhook: Webhook, alarm_logger: logging.Logger
) -> None:
    out = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    handler = configure_logging("INFO", "json", stream=out, environ={})
    dead_url = f"http://127.0.0.1:1/hooks/{TOKEN}"  # nothing listens on port 1
    notifier = Notifier([WebhookChannel(webhook.url), WebhookChannel(dead_url)])
    alarm_logger.addHandler(notifier)
    alarm_logger.addHandler(handler)
    try:
        alarm_logger.error("event=kill_switch_tripped reason=operator detail=%r", f"key {KEY}")
        body = webhook.bodies.get(timeout=10)
        notifier.close()
    finally:
        root.removeHandler(handler)
        for old in saved:
            root.addHandler(old)

    assert KEY.removeprefix("0x") not in body["text"]
    assert "[redacted]" in body["text"]
    logged = out.getvalue()
    assert "notification_failed" in logged
    assert TOKEN not in logged
    assert TOKEN not in repr(WebhookChannel(dead_url))
    assert "hunter2" not in repr(
        SmtpChannel(host="h", port=1, sender="s", recipients=("r",), password="hunter2")
    )


def test_the_environment_configures_the_channels(tmp_path: Path) -> None:
    (tmp_path / "makerd_smtp_password").write_text("s3cret\n", encoding="utf-8")

    channels = channels_from_environ(
        {
            "MAKERD_NOTIFY_WEBHOOK_URL": "https://hooks.example.org/x",
            "MAKERD_NOTIFY_WEBHOOK_FORMAT": "discord",
            "MAKERD_NOTIFY_SMTP_HOST": "mail.example.org",
            "MAKERD_NOTIFY_SMTP_TO": "a@example.org, b@example.org",
            "MAKERD_NOTIFY_SMTP_USER": "makerd",
            "CREDENTIALS_DIRECTORY": str(tmp_path),
        }
    )

    webhook, mail = channels
    assert isinstance(webhook, WebhookChannel)
    assert webhook.format == "discord"
    assert isinstance(mail, SmtpChannel)
    assert mail.recipients == ("a@example.org", "b@example.org")
    assert mail.port == 587
    assert mail.password == "s3cret"
    assert channels_from_environ({}) == []
    with pytest.raises(ValueError, match="http"):
        channels_from_environ({"MAKERD_NOTIFY_WEBHOOK_URL": "file:///etc/passwd"})


def test_a_real_makerd_kill_switch_trip_reaches_the_webhook(
    webhook: Webhook, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "tight.yaml",
        {
            "sim": {"scenario": "volatile"},
            "quoting": {"first_level_bps": 1},
            "risk": {"max_drawdown_usd": 0.05},  # a few fills' fees
        },
    )
    makerd = MakerdProcess(
        [
            *("run", "--config", str(config), "--state-dir", str(tmp_path / "state")),
            *("--metrics-port", "0", "--duration", "120"),
        ],
        cwd=tmp_path,
        env={"MAKERD_NOTIFY_WEBHOOK_URL": webhook.url},
    )
    code = makerd.finish(timeout=150)
    body = webhook.bodies.get(timeout=10)

    assert code == EXIT_KILL_SWITCH, makerd.text
    assert "kill switch tripped" in body["text"]
    assert "reason=max_drawdown" in body["text"]
    assert TOKEN not in makerd.text
