"""Log records for people and for machines: text on a terminal, one JSON object per line off it.

``configure_logging`` installs one handler on the root logger, writing to stderr:

- ``text`` (the default on a TTY): ``2026-01-02 03:04:05,678 INFO makerd.risk [risk_guardian]
  event=... k=v``, tracebacks on the lines after it.
- ``json`` (the default when stderr is not a TTY: a pipe, a file, journald): one object per
  line with ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``actor`` (the role of the actor
  whose thread logged, else null), ``thread``, ``event`` and ``fields`` (parsed from
  makerd's ``event=name key=value ...`` messages), ``message`` (the text as formatted) and,
  for an exception, ``exc``: the whole traceback as one string.

Under systemd (``$JOURNAL_STREAM`` names our stderr) every line starts with a syslog
priority, ``<3>`` for ERROR and so on, which journald strips and stores, so
``journalctl -p err`` finds errors.

Every field passes through :func:`redact`: private keys (64 hex digits) and values of
fields named like a secret never reach the output, even inside a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime
from types import FrameType
from typing import Literal, TextIO

LogFormat = Literal["auto", "json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("auto", "json", "text")
REDACTED = "[redacted]"

# syslog(3) priorities journald understands as a "<N>" line prefix.
_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}
# A 32-byte secp256k1 key as hex, with or without 0x; addresses (20 bytes) are not secret.
_PRIVATE_KEY = re.compile(r"(?<![0-9a-fA-F])(?:0x)?[0-9a-fA-F]{64}(?![0-9a-fA-F])")
_SECRET_NAMES = re.compile(r"(private_?key|secret|password|passwd|token|api_?key|webhook)", re.I)
_VALUE = r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S+)"""
_NAMED_SECRET = re.compile(
    r"(\w*(?:private_?key|secret|password|passwd|token|api_?key|webhook)\w*)=" + _VALUE, re.I
)
_FIELD = re.compile(r"(\w+)=" + _VALUE)
_UNESCAPES = {"\\n": "\n", "\\r": "\r", "\\t": "\t", '\\"': '"', "\\\\": "\\"}


def redact(text: str) -> str:
    """``text`` with anything shaped like a private key, and the value of any
    ``secret_name=value`` pair, replaced by ``[redacted]``."""
    text = _NAMED_SECRET.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    return _PRIVATE_KEY.sub(REDACTED, text)


def parse_fields(message: str) -> tuple[str | None, dict[str, str]]:
    """The event name and ``key=value`` fields of an ``event=name k=v ...`` message.

    Messages that do not start with ``event=`` have no event and no fields.
    """
    if not message.startswith("event="):
        return None, {}
    fields: dict[str, str] = {}
    for key, raw in _FIELD.findall(message):
        value = raw
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
            value = re.sub(r"\\.", lambda m: _UNESCAPES.get(m.group(0), m.group(0)), raw[1:-1])
        fields[key] = REDACTED if _SECRET_NAMES.search(key) else redact(value)
    event = fields.pop("event", None)
    return event, fields


class ActorRoles:
    """The actor role of the calling thread, found once per thread and remembered.

    Actor threads run pykka's loop with the actor as ``self`` at the bottom of the stack;
    supervised actors carry their role on ``child_handle.role``. Other threads (main,
    supervisor, metrics, the venue's event loop) have no role.
    """

    def __init__(self) -> None:
        self._roles: weakref.WeakKeyDictionary[threading.Thread, str | None] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def current(self) -> str | None:
        thread = threading.current_thread()
        with self._lock:
            if thread in self._roles:
                return self._roles[thread]
        role = _role_from_stack()
        with self._lock:
            self._roles[thread] = role
        return role


def _role_from_stack() -> str | None:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        handle = getattr(owner, "child_handle", None)
        role = getattr(handle, "role", None)
        if isinstance(role, str):
            return role
        frame = frame.f_back
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        message = redact(record.getMessage())
        event, fields = parse_fields(message)
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "actor": getattr(record, "actor", None),
            "thread": record.threadName,
            "event": event,
            "fields": fields,
            "message": message,
        }
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic single line, with the actor role in brackets when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(actor_tag)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        actor = getattr(record, "actor", None)
        record.actor_tag = f" [{actor}]" if actor else ""
        return redact(super().format(record))


class _ActorFilter(logging.Filter):
    def __init__(self, roles: ActorRoles) -> None:
        super().__init__()
        self._roles = roles

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "actor"):
            record.actor = self._roles.current()
        return True


class _JournalPrefix(logging.Formatter):
    """Wraps a formatter: ``<N>`` before each record for journald's priority."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6 if record.levelno < logging.WARNING else 3)
        # A text traceback spans lines; journald would store the later ones at the default
        # priority, so each line carries the prefix.
        return "\n".join(
            f"<{priority}>{line}" for line in self._inner.format(record).splitlines() or [""]
        )


def under_journald(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """True when ``$JOURNAL_STREAM`` (``device:inode``) is the file ``stream`` writes to."""
    value = environ.get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (status.st_dev, status.st_ino) == (int(device), int(inode))


def chosen_format(requested: LogFormat, stream: TextIO) -> Literal["json", "text"]:
    if requested != "auto":
        return requested
    try:
        return "text" if stream.isatty() else "json"
    except (OSError, ValueError):
        return "json"


def configure_logging(
    level: str,
    log_format: LogFormat = "auto",
    *,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> logging.Handler:
    """Replace the root logger's handlers with one stderr handler; returns it."""
    out = sys.stderr if stream is None else stream
    env = os.environ if environ is None else environ
    roles = ActorRoles()
    formatter: logging.Formatter = (
        JsonFormatter() if chosen_format(log_format, out) == "json" else TextFormatter()
    )
    if under_journald(out, env):
        formatter = _JournalPrefix(formatter)
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    handler.addFilter(_ActorFilter(roles))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def say_error(message: str, stream: TextIO | None = None) -> None:
    """Tell the operator why makerd refuses or stops: on stderr, at error priority.

    These lines are written before (or instead of) the logging setup, so they carry
    journald's ``<3>`` prefix themselves, on every line: ``journalctl -p err`` then shows
    the whole reason, field names included, and a terminal shows it unchanged.
    """
    target = stream if stream is not None else sys.stderr
    lines = message.splitlines() or [""]
    if under_journald(target, os.environ):
        lines = [f"<{_PRIORITY[logging.ERROR]}>{line}" for line in lines]
    print("\n".join(lines), file=target, flush=True)
