"""Log records as an operator's tools read them: JSON off a TTY, text on one, journald prefixes."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.daemon.logs import REDACTED, configure_logging, parse_fields
from tests.processes import makerd_command, write_config

KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ENVELOPE = {"ts", "level", "logger", "actor", "thread", "event", "fields", "message"}


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def run_makerd(
    tmp_path: Path,
    *args: str,
    stderr: int | io.TextIOWrapper | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(
        makerd_command(args, cwd=tmp_path),
        cwd=tmp_path,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if stderr is None else stderr,
        text=True,
        timeout=timeout,
        check=False,
    )


def short_run(tmp_path: Path, *extra: str) -> list[str]:
    return [
        *extra,
        "run",
        "--duration",
        "1.5",
        "--metrics-port",
        "0",
        "--state-dir",
        str(tmp_path / "state"),
    ]


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_off_a_tty_every_stderr_line_is_one_json_object_with_the_envelope(
    tmp_path: Path,
) -> None:
    done = run_makerd(tmp_path, *short_run(tmp_path))

    records = json_lines(done.stderr)

    assert done.returncode == 0, done.stderr
    assert records, "makerd logged nothing"
    assert all(set(record) >= ENVELOPE for record in records)
    started = next(r for r in records if r["event"] == "started")
    assert started["level"] == "INFO"
    assert started["logger"] == "makerd"
    assert started["fields"] == {"mode": "sim", "coin": "BTC", "session": "1"}


def read_pty(master: int, sink: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            return  # EIO: every writer closed the terminal
        if not chunk:
            return
        sink.append(chunk)


def run_on_a_tty(tmp_path: Path, *args: str) -> tuple[int, str]:
    master, slave = pty.openpty()
    received: list[bytes] = []
    reader = threading.Thread(target=read_pty, args=(master, received), daemon=True)
    reader.start()
    with os.fdopen(slave, "w") as terminal:
        done = run_makerd(tmp_path, *args, stderr=terminal)
    reader.join(timeout=10)
    os.close(master)
    return done.returncode, b"".join(received).decode("utf-8", "replace")


def test_on_a_tty_the_log_is_text_for_people(tmp_path: Path) -> None:
    code, text = run_on_a_tty(tmp_path, *short_run(tmp_path))

    started = [line for line in text.splitlines() if "event=started" in line]

    assert code == 0, text
    assert len(started) == 1
    assert " INFO makerd event=started mode=sim coin=BTC" in started[0]
    assert not started[0].lstrip().startswith("{")


def test_log_format_forces_json_on_a_tty_and_text_off_it(tmp_path: Path) -> None:
    code, on_tty = run_on_a_tty(tmp_path, *short_run(tmp_path, "--log-format", "json"))
    forced_text = run_makerd(tmp_path, *short_run(tmp_path, "--log-format", "text"))

    tty_records = [json.loads(line) for line in on_tty.splitlines() if line.startswith("{")]

    assert code == 0, on_tty
    assert any(record["event"] == "started" for record in tty_records)
    assert "INFO makerd event=started" in forced_text.stderr
    assert not any(line.startswith("{") for line in forced_text.stderr.splitlines())


def test_under_journald_each_line_carries_its_syslog_priority(tmp_path: Path) -> None:
    log_file = tmp_path / "journal-stream.log"
    with log_file.open("w") as stream:
        status = os.fstat(stream.fileno())
        done = run_makerd(
            tmp_path,
            *short_run(tmp_path),
            stderr=stream,
            env={"JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"},
        )
    lines = log_file.read_text(encoding="utf-8").splitlines()

    assert done.returncode == 0, lines
    assert lines
    assert all(line[:3] in {"<7>", "<6>", "<4>", "<3>", "<2>"} for line in lines), lines
    started = next(line for line in lines if '"event": "started"' in line)
    assert started.startswith("<6>{")
    assert json.loads(started[3:])["level"] == "INFO"


def test_a_journal_stream_that_is_not_our_stderr_adds_no_prefix(tmp_path: Path) -> None:
    done = run_makerd(tmp_path, *short_run(tmp_path), env={"JOURNAL_STREAM": "1:1"})

    assert done.returncode == 0, done.stderr
    assert all(line.startswith("{") for line in done.stderr.splitlines())


def test_a_traceback_is_one_field_of_one_line(restore_root_logger: None) -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out, environ={})

    try:
        raise RuntimeError("venue said no\nsecond line")
    except RuntimeError:
        logging.getLogger("makerd.test").exception("event=boom where=%s", "here")

    (line,) = out.getvalue().splitlines()
    record = json.loads(line)
    assert record["level"] == "ERROR"
    assert record["event"] == "boom"
    assert record["fields"] == {"where": "here"}
    assert str(record["exc"]).startswith("Traceback (most recent call last):")
    assert "RuntimeError: venue said no\nsecond line" in str(record["exc"])


def test_quoted_values_are_unquoted_into_fields() -> None:
    event, fields = parse_fields(
        "event=child_restarted role=quoter error=\"RuntimeError('x y')\" reason='a b' n=3"
    )

    assert event == "child_restarted"
    assert fields == {"role": "quoter", "error": "RuntimeError('x y')", "reason": "a b", "n": "3"}


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_no_private_key_reaches_any_field_message_or_traceback(
    restore_root_logger: None, log_format: str
) -> None:
    out = io.StringIO()
    configure_logging("DEBUG", log_format, stream=out, environ={})  # type: ignore[arg-type]
    log = logging.getLogger("makerd.test")

    log.info("event=signer_loaded private_key=%s note=%r", "not-hex-but-named-secret", KEY)
    log.warning("signing with %s failed", KEY.removeprefix("0x"))
    try:
        raise ValueError(f"bad key {KEY}")
    except ValueError:
        log.exception("event=key_rejected")

    text = out.getvalue()
    assert KEY.removeprefix("0x") not in text
    assert "not-hex-but-named-secret" not in text
    assert REDACTED in text
    if log_format == "json":
        records = json_lines(text)
        assert records[0]["fields"] == {"private_key": REDACTED, "note": REDACTED}
        assert "bad key [redacted]" in str(records[2]["exc"])


def test_a_crashing_actor_logs_its_role_its_traceback_and_the_restart_decision(
    tmp_path: Path,
) -> None:
    config = write_config(
        tmp_path / "crash.yaml",
        {
            "faults": {"crash_role": "quoter", "crash_every_s": 1.0},
            "supervisor": {"max_restarts": 10, "period_s": 60},
        },
    )
    done = run_makerd(
        tmp_path,
        "run",
        "--config",
        str(config),
        "--duration",
        "4",
        "--metrics-port",
        "0",
        "--state-dir",
        str(tmp_path / "state"),
    )

    records = json_lines(done.stderr)
    restarts = [r for r in records if r["event"] == "child_restarted"]
    crashes = [r for r in records if r["actor"] == "quoter" and r.get("exc")]

    assert done.returncode == 0, done.stderr[-3000:]
    assert restarts, done.stderr[-3000:]
    first = restarts[0]["fields"]
    assert isinstance(first, dict)
    assert first["role"] == "quoter"
    assert first["kind"] == "crashed"
    assert first["restarts_in_window"] == "1"
    assert first["max_restarts"] == "10"
    assert first["action"] == "restarted"
    assert crashes, "the crash is logged from the quoter's own thread, with its traceback"
    assert "Traceback" in str(crashes[0]["exc"])


def test_a_live_run_at_debug_level_never_logs_its_private_key(tmp_path: Path) -> None:
    from eth_account import Account

    from makerd.venues.hl_local.background import VenueThread
    from makerd.venues.hl_local.server import VenueConfig

    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=5, tick_interval_s=0.1))
    url = venue.start()
    key = Account.create().key.hex()
    config = write_config(tmp_path / "live.yaml", {"mode": "live", "coin": "BTC"})
    try:
        done = run_makerd(
            tmp_path,
            "--log-level",
            "DEBUG",
            "run",
            "--config",
            str(config),
            "--api-url",
            url,
            "--duration",
            "4",
            "--metrics-port",
            "0",
            "--state-dir",
            str(tmp_path / "state"),
            env={"MAKERD_PRIVATE_KEY": key},
            timeout=120,
        )
    finally:
        venue.stop()

    records = json_lines(done.stderr)
    assert done.returncode == 0, done.stderr[-3000:]
    assert any(record["level"] == "DEBUG" for record in records)
    assert key.removeprefix("0x").lower() not in (done.stderr + done.stdout).lower()
