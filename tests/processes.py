"""Run makerd as a real process and read what it prints, without sleeping."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

STARTED: list[MakerdProcess] = []
"""Every makerd this test process started, in order: what ``tests/conftest.py`` stops
when a test ends without stopping its own."""


class MakerdProcess:
    """``python -m makerd ...`` in a working directory of the test's choosing."""

    def __init__(self, args: list[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> None:
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env["PYTHONUNBUFFERED"] = "1"
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.proc = subprocess.Popen(
            makerd_command(args, cwd=cwd),
            cwd=cwd,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        STARTED.append(self)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        # Closed at the end of the output: left open, each makerd a test ran held a pipe
        # until garbage collection ("ResourceWarning: unclosed file" in the pytest worker).
        with self.proc.stdout as output:
            for line in output:
                self.output.append(line)
                self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """Block until a line matches ``pattern``; fail with the output so far."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout  # overall, not per line: status lines keep coming
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no line matched {pattern!r} within {timeout}s:\n{self.text}"
                ) from None
            match = regex.search(line)
            if match:
                return match

    def metrics_port(self) -> int:
        return int(self.wait_for(r"metrics on http://127\.0\.0\.1:(\d+)/metrics").group(1))

    def signal(self, signum: signal.Signals) -> None:
        self.proc.send_signal(signum)

    def finish(self, timeout: float = 60.0) -> int:
        """The exit code; a process still running after ``timeout`` is killed, and the test
        fails with what it printed (a hang is a finding, not a bare TimeoutExpired)."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self._reader.join(timeout=5)
            raise AssertionError(
                f"makerd still running after {timeout}s:\n{self.text[-6000:]}"
            ) from None
        self._reader.join(timeout=5)
        return code

    def kill_if_running(self) -> bool:
        """SIGKILL it if it still runs; whether it did."""
        if self.proc.poll() is not None:
            return False
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        return True

    @property
    def text(self) -> str:
        return "".join(self.output)


GLOBAL_OPTIONS_WITH_VALUES = frozenset({"--log-level", "--log-format"})
"""The options before makerd's command that take a value (``makerd --log-level INFO run``)."""


def makerd_command(args: Sequence[str], *, cwd: Path | None = None) -> list[str]:
    """``python -m makerd ARGS``; a ``run`` that chose no metrics port listens on any free one.

    The default port, 127.0.0.1:9108, belongs to whatever else runs on the machine (an
    operator's makerd, another run of this suite): a test run that took it failed with
    "cannot serve metrics on 127.0.0.1:9108: Address already in use". A test that means a
    port says so with ``--metrics-port`` or its config's ``metrics.port``; a test reads
    the port it got with :meth:`MakerdProcess.metrics_port`. ``cwd`` is where a relative
    ``--config`` path is read from (the process's working directory).
    """
    arguments = list(args)
    command_at = _command_index(arguments)
    if command_at is None or arguments[command_at] != "run":
        return [sys.executable, "-m", "makerd", *arguments]
    options = arguments[command_at + 1 :]
    # argparse takes any unambiguous prefix: --metrics is --metrics-port.
    chosen = any(option.startswith("--metrics") for option in options)
    if not chosen and not _config_sets_metrics_port(options, cwd or Path.cwd()):
        arguments[command_at + 1 : command_at + 1] = ["--metrics-port", "0"]
    return [sys.executable, "-m", "makerd", *arguments]


def _command_index(arguments: list[str]) -> int | None:
    """Where makerd's command (``run``, ``report``...) is in ``arguments``, if there is one."""
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument in GLOBAL_OPTIONS_WITH_VALUES:
            index += 2
        elif argument.startswith("-"):
            index += 1
        else:
            return index
    return None


def _config_sets_metrics_port(options: list[str], cwd: Path) -> bool:
    """Whether ``run``'s ``--config`` file sets ``metrics.port``. A file that is missing,
    not a regular file or not YAML sets nothing: that run exits 78 before any port."""
    named = [
        options[index + 1] for index, option in enumerate(options[:-1]) if option == "--config"
    ]
    named += [option.split("=", 1)[1] for option in options if option.startswith("--config=")]
    for name in named:
        path = cwd / name  # an absolute name stays itself
        if not path.is_file():  # never read /dev/zero or a FIFO a hostile test names
            continue
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        metrics = document.get("metrics") if isinstance(document, dict) else None
        if isinstance(metrics, dict) and "port" in metrics:
            return True
    return False


def write_config(path: Path, overrides: Mapping[str, object]) -> Path:
    """A config file: the packaged defaults plus ``overrides`` (nested mappings)."""
    path.write_text(yaml.safe_dump(dict(overrides)), encoding="utf-8")
    return path


def open_fds() -> set[tuple[int, str]]:
    """This process's open file descriptors, each with what it is (socket:[inode], pipe…)."""
    described: set[tuple[int, str]] = set()
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor, closed by now
            described.add((int(name), os.readlink(f"/proc/self/fd/{name}")))
    return described


def opened_since(before: set[tuple[int, str]], *, settle_s: float = 10.0) -> set[tuple[int, str]]:
    """What this process holds open now and did not in ``before`` (:func:`open_fds`), once
    an in-process server has had ``settle_s`` to close its ends of closed connections."""
    deadline = time.monotonic() + settle_s
    pause = threading.Event()  # never set: a timed wait that is not time.sleep
    while (opened := open_fds() - before) and time.monotonic() < deadline:
        pause.wait(0.05)
    return opened
