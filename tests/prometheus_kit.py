"""A real Prometheus server on loopback for tests: Debian's ``prometheus`` binary.

.ci/run installs it (``apt-get install prometheus``); tests that need it skip, saying so,
only where the binary is not installed.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
RULES = DEPLOY / "prometheus" / "makerd-rules.yml"
NOT_INSTALLED = (
    "the prometheus binary is not installed (.ci/run installs Debian's `prometheus` package)"
)
T = TypeVar("T")

needs_prometheus = pytest.mark.skipif(shutil.which("prometheus") is None, reason=NOT_INSTALLED)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def eventually(
    probe: Callable[[], T | None], *, timeout_s: float, what: str, step_s: float = 0.2
) -> T:
    """``probe()`` until it returns something other than None; fail after ``timeout_s``."""
    pause = threading.Event()  # never set: a timed wait between polls, not a sleep
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except (OSError, ValueError) as error:  # not up yet
            last_error = error
            result = None
        if result is not None:
            return result
        pause.wait(step_s)
    raise AssertionError(f"{what}: not within {timeout_s}s (last error: {last_error})")


class Prometheus:
    """``prometheus`` scraping ``targets`` every 0.5 s and evaluating makerd's rules."""

    def __init__(self, workdir: Path, targets: list[str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "500ms", "evaluation_interval": "500ms"},
            "rule_files": [str(RULES)],
            "scrape_configs": [
                {
                    "job_name": "makerd",
                    "scrape_interval": "500ms",
                    "scrape_timeout": "400ms",
                    "static_configs": [{"targets": targets}],
                }
            ],
        }
        config_path = workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.log_path = workdir / "prometheus.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config_path}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        eventually(self._ready, timeout_s=60, what="prometheus ready")

    def _ready(self) -> bool | None:
        if self.process.poll() is not None:
            raise AssertionError(f"prometheus exited: {self.log_path.read_text()[-2000:]}")
        with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as response:
            return True if response.status == 200 else None

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=5) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.api("query", query=promql)["result"]
        return result

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()
