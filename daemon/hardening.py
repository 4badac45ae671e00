"""Keep the private key inside the process: no core dumps, no readable state files.

A core dump is a copy of the process's memory, and the memory holds the API wallet's
key (from the environment or the key file). Outside systemd (whose unit sets
``LimitCORE=0``) nothing else stops a crash, or an operator's SIGABRT with
``ulimit -c unlimited``, from writing that copy to disk. :func:`harden_process` runs
first thing in ``makerd run``:

- ``prctl(PR_SET_DUMPABLE, 0)`` (Linux): no core dump, even through a pipe to a crash
  handler (systemd-coredump, apport), and no ptrace attach by other same-user processes;
- ``RLIMIT_CORE`` soft and hard limit 0, so a child cannot raise it again;
- ``umask 0o077``, so the state directory is created 0700 and every file in it
  (journal, its WAL, the kill-switch latch) 0600.
"""

from __future__ import annotations

import ctypes
import os
import resource
import stat
import sys
from pathlib import Path

PR_SET_DUMPABLE = 4
"""From <linux/prctl.h>."""
PRIVATE_UMASK = 0o077
_PRIVATE_DIR_MODE = 0o700
_PRIVATE_FILE_MODE = 0o600


def harden_process() -> None:
    """Forbid core dumps and make every file this process creates private to its user."""
    os.umask(PRIVATE_UMASK)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"prctl(PR_SET_DUMPABLE, 0) failed: {os.strerror(error)}")
    # Elsewhere (macOS) RLIMIT_CORE 0 is the whole defence: there is no PR_SET_DUMPABLE,
    # and launchd does not write cores unless told to.


def tighten_state_dir(state_dir: Path) -> str | None:
    """Make an existing state directory 0700 and its files 0600; say what changed.

    A directory created by an earlier version (0755, files 0644) would otherwise stay
    readable by every user on the machine. Returns one line for the operator, or None
    when nothing needed changing (or the directory does not exist yet).
    """
    try:
        status = os.lstat(state_dir)
    except OSError:
        return None
    if not stat.S_ISDIR(status.st_mode):
        return None
    changed: list[str] = []
    mode = stat.S_IMODE(status.st_mode)
    if mode & PRIVATE_UMASK:
        changed.append(_chmod(state_dir, str(state_dir), mode, _PRIVATE_DIR_MODE))
    for entry in os.scandir(state_dir):
        # follow_symlinks=False: never chmod a file elsewhere through a link.
        if not entry.is_file(follow_symlinks=False):
            continue
        file_mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
        if file_mode & PRIVATE_UMASK:
            changed.append(_chmod(Path(entry.path), entry.name, file_mode, _PRIVATE_FILE_MODE))
    if not changed:
        return None
    return "makerd: made the state directory private to its user: " + ", ".join(changed)


def _chmod(path: Path, name: str, old: int, new: int) -> str:
    try:
        os.chmod(path, new)
    except OSError as error:
        return f"{name} {old:04o} (cannot change: {error.strerror})"
    return f"{name} {old:04o} -> {new:04o}"
