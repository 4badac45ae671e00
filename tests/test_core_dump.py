"""Secrets stay in memory: no core dump of a running makerd, private state files.

The dump test first proves the machine does write cores (a plain Python process with the
key in its environment, killed the same way, leaves one holding the key), then that
makerd does not. Where ``/proc/sys/kernel/core_pattern`` pipes cores to a handler
(systemd-coredump, apport), no file would appear in either case, so the test then rests
on what the kernel reports of the process itself: ``/proc/PID/limits`` (core size 0).
"""

from __future__ import annotations

import os
import queue
import re
import resource
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

from makerd.daemon.journal import Journal
from tests.hostile_kit import VALID_KEY, run_makerd

KEY_BYTES = VALID_KEY.removeprefix("0x").encode("ascii")
CORE_PATTERN = Path("/proc/sys/kernel/core_pattern")


def _allow_cores() -> None:
    """In the child, before exec: what an operator's ``ulimit -c unlimited`` does."""
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    os.umask(0o022)


class Child:
    """A process started with cores allowed, whose output lines can be waited for."""

    def __init__(self, argv: list[str], *, cwd: Path) -> None:
        env = dict(os.environ, MAKERD_PRIVATE_KEY=VALID_KEY, PYTHONUNBUFFERED="1")
        self.lines: queue.Queue[str] = queue.Queue()
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,  # CI runs with no standard input at all
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=_allow_cores,  # noqa: PLW1509  (no threads run in the child before exec)
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 60.0) -> None:
        regex = re.compile(pattern)
        while not regex.search(self.lines.get(timeout=timeout)):
            pass

    def abort(self) -> int:
        self.proc.send_signal(signal.SIGABRT)
        return self.proc.wait(timeout=60)


def _core_directory(cwd: Path) -> Path | None:
    """Where a core of a process in ``cwd`` lands, or None when a handler takes it."""
    pattern = CORE_PATTERN.read_text().strip() if CORE_PATTERN.exists() else "core"
    if pattern.startswith("|"):
        return None
    return (cwd / pattern).parent


def _files_holding_the_key(directory: Path) -> list[Path]:
    found = []
    for path in directory.rglob("*"):
        if path.is_file() and not path.is_symlink() and KEY_BYTES in path.read_bytes():
            found.append(path)
    return found


def _core_limit(pid: int) -> str:
    limits = Path(f"/proc/{pid}/limits").read_text()
    [line] = [line for line in limits.splitlines() if line.startswith("Max core file size")]
    return line


def test_a_run_sent_sigabrt_leaves_no_core_file_holding_the_key(tmp_path: Path) -> None:
    control_dir, makerd_dir = tmp_path / "control", tmp_path / "makerd"
    control_dir.mkdir()
    makerd_dir.mkdir()
    waiter = "import signal; print('up', flush=True); signal.pause()"
    control = Child([sys.executable, "-c", waiter], cwd=control_dir)
    control.wait_for("up")
    assert control.abort() == -signal.SIGABRT
    makerd = Child(
        [sys.executable, "-m", "makerd", "run", "--duration", "120", "--metrics-port", "0"],
        cwd=makerd_dir,
    )
    makerd.wait_for(r"metrics on http://")

    limit = _core_limit(makerd.proc.pid)
    code = makerd.abort()

    assert code == -signal.SIGABRT
    assert limit.split()[4:6] == ["0", "0"], limit  # soft and hard limit: 0 bytes
    where = _core_directory(makerd_dir)
    if where is None:
        print("core_pattern pipes to a handler: checked RLIMIT_CORE of the process instead")
        return
    assert _files_holding_the_key(control_dir), "this machine writes no cores in cwd"
    for core in control_dir.glob("core*"):
        core.unlink()  # the control's dump holds the (throwaway) key: do not leave it behind
    assert _files_holding_the_key(where) == []
    assert list(where.glob("core*")) == []


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_state_directory_is_private_to_its_user(tmp_path: Path) -> None:
    state = tmp_path / "state"

    finished = run_makerd(
        ["run", "--duration", "1", "--state-dir", str(state), "--metrics-port", "0"],
        cwd=tmp_path,
    )

    assert finished.code == 0, finished.text
    assert _mode(state) == 0o700
    files = [path for path in state.iterdir() if path.is_file()]
    assert state / "journal.sqlite" in files
    assert {path.name: _mode(path) for path in files} == dict.fromkeys(
        (path.name for path in files), 0o600
    )


def test_an_existing_loose_state_directory_is_tightened_and_the_user_told_once(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    Journal(state / "journal.sqlite").close()
    (state / "journal.sqlite").chmod(0o644)

    finished = run_makerd(
        ["run", "--duration", "1", "--state-dir", str(state), "--metrics-port", "0"],
        cwd=tmp_path,
    )

    assert finished.code == 0, finished.text
    assert _mode(state) == 0o700
    assert _mode(state / "journal.sqlite") == 0o600
    assert finished.stderr.count("made the state directory private") == 1
    assert "journal.sqlite 0644 -> 0600" in finished.stderr
