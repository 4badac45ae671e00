"""What the control channel's server and client agree on: where, how big, how long, who.

The socket is ``STATE_DIR/control.sock``, mode 0600, in the 0700 state directory. Each
connection carries one request, one JSON object on one line (at most
:data:`MAX_REQUEST_BYTES`), and one answer, one JSON object on one line; then it closes.
Both ends ask the kernel who is on the other side (``SO_PEERCRED``) and talk only to
their own uid: root gets no exception.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

SOCKET_NAME = "control.sock"
MAX_REQUEST_BYTES = 4096
MAX_ANSWER_BYTES = 1 << 20
IO_TIMEOUT_S = 2.0
"""How long either end waits for the other to send or take a line."""
COMMAND_TIMEOUT_S = 5.0
"""How long the server waits for the order_manager to act on a command."""
POSITION_LEFT_OPEN = "position_left_open"
"""The answer's key, ``{coin: size}``, of a flatten that could send no closing order for
an open position; ``makerd ctl`` then exits 86, as a stop that leaves one does."""
_SUN_PATH_MAX = 100
"""``sun_path`` holds 104 (macOS) to 108 (Linux) bytes with its NUL; keep a margin."""
_UCRED = struct.Struct("3i")
"""Linux ``struct ucred``: pid, uid, gid."""
_SOL_LOCAL = 0
_LOCAL_PEERCRED = 0x001
_XUCRED = struct.Struct("IIh")
"""The head of BSD/macOS ``struct xucred``: version, uid, ngroups."""


def socket_path(state_dir: Path) -> Path:
    return state_dir / SOCKET_NAME


@contextlib.contextmanager
def bindable(path: Path) -> Iterator[str]:
    """An address for ``bind``/``connect`` naming ``path``, however deep the state dir is.

    A path longer than ``sun_path`` is reached through ``/proc/self/fd/N`` of its open
    directory on Linux (the kernel resolves the link, the file lands in the directory).
    """
    text = os.fsdecode(path)
    if len(os.fsencode(text)) <= _SUN_PATH_MAX:
        yield text
        return
    if not sys.platform.startswith("linux"):
        raise OSError(f"the path {text} is too long for a Unix socket; use a shorter state dir")
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{directory}/{path.name}"
    finally:
        os.close(directory)


def peer_uid(connection: socket.socket) -> int | None:
    """The uid of the process at the other end, as the kernel says; None if it cannot."""
    if hasattr(socket, "SO_PEERCRED"):
        raw = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
        _pid, uid, _gid = _UCRED.unpack(raw)
        return int(uid)
    if sys.platform == "darwin":  # untested here: LOCAL_PEERCRED fills a struct xucred
        raw = connection.getsockopt(_SOL_LOCAL, _LOCAL_PEERCRED, 128)
        _version, uid, _groups = _XUCRED.unpack_from(raw)
        return int(uid)
    return None  # no way to know who it is: the caller refuses
