"""Helpers for tests of ``makerd ctl``: the CLI as a process, the client in-process."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from makerd.daemon.control_client import request
from tests.processes import makerd_command


@dataclass(frozen=True, slots=True)
class CtlResult:
    code: int
    answer: dict[str, Any] | None
    stderr: str


def ctl(state: Path, *args: str) -> CtlResult:
    """``makerd ctl ARGS --state-dir STATE`` as its own process (the installed makerd)."""
    done = subprocess.run(
        [sys.executable, "-m", "makerd", "ctl", *args, "--state-dir", str(state)],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    answer = json.loads(done.stdout) if done.stdout.strip() else None
    return CtlResult(done.returncode, answer, done.stderr)


def makerd_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        makerd_command(args),
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def status(state: Path) -> dict[str, Any]:
    """``ctl status`` through the client library: cheap enough to poll."""
    return request(state, "status")


def open_orders(state: Path) -> int:
    count = status(state)["open_orders"]["makerd"]
    assert isinstance(count, int)
    return count


def position(state: Path) -> Decimal:
    return Decimal(status(state)["position"])


def orders_placed(metrics_port: int) -> float:
    """``makerd_orders_placed_total`` over both sides, from the metrics page."""
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as page:
        text = page.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("makerd_orders_placed_total{")
    )


def operator_commands(state: Path) -> list[tuple[str, int, str]]:
    with sqlite3.connect(state / "journal.sqlite") as db:
        return list(db.execute("SELECT command, ok, detail FROM operator_commands ORDER BY rowid"))
