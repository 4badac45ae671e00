"""One makerd per state directory: an advisory lock held for the whole run.

Two processes on one journal would each cancel the other's orders as orphans and book
the same fills into two sessions. ``flock`` is released by the kernel when the process
dies, however it dies, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from makerd.daemon.control_server import socket_file_problem
from makerd.daemon.control_socket import socket_path

LOCK_NAME = "makerd.lock"


class StateDirLockedError(Exception):
    """Another process holds the lock; the message names it when it can."""


class StateDirLock:
    def __init__(self, state_dir: Path) -> None:
        self._path = state_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise StateDirLockedError(
                f"{self._path.parent} is in use by makerd pid {holder}"
                if holder.isdigit()
                else f"{self._path.parent} is in use by {holder}"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None

    def __enter__(self) -> StateDirLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def state_dir_problem(state_dir: Path) -> str | None:
    """Why ``state_dir`` cannot hold a run (created if missing), or None if it can."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"cannot be created ({error.strerror})"
    if not os.access(state_dir, os.W_OK | os.X_OK):
        return "is not writable"
    return socket_file_problem(socket_path(state_dir))
