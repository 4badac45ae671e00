"""The control channel's client: ``makerd ctl`` sends one request and reads one answer.

Before connecting it refuses a socket file that is not a socket, is not its user's own,
or that other users could reach (any group or other permission bit), and a state
directory other users may write to. After connecting it asks the kernel who serves the
socket and talks only to a process of its own uid. Each refusal is a
:class:`ControlClientError` with one line for the operator and its exit code.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import time
from pathlib import Path

from makerd.daemon.control_socket import (
    COMMAND_TIMEOUT_S,
    IO_TIMEOUT_S,
    MAX_ANSWER_BYTES,
    bindable,
    peer_uid,
    socket_path,
)
from makerd.daemon.exit_codes import EXIT_FAILURE, EXIT_NOT_RUNNING, EXIT_REFUSED

DEFAULT_TIMEOUT_S = COMMAND_TIMEOUT_S + 2 * IO_TIMEOUT_S + 1
_BUSY_RETRY_S = 0.02
Answer = dict[str, object]


class ControlClientError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def request(state_dir: Path, command: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> Answer:
    """Send ``command`` to the makerd running on ``state_dir``; its answer (``ok`` or not)."""
    path = socket_path(state_dir)
    check_socket_file(path)
    deadline = time.monotonic() + timeout_s
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout_s)
        _connect(connection, path, deadline)
        server = peer_uid(connection)
        if server != os.geteuid():
            raise ControlClientError(
                f"refused: {path} is served by uid {server}, not by you (uid {os.geteuid()})",
                EXIT_REFUSED,
            )
        try:
            _send(connection, command)
            data = _read_line(connection, deadline)
        except TimeoutError:
            raise ControlClientError(
                f"no answer from makerd within {timeout_s:g} s ({path})", EXIT_FAILURE
            ) from None
        except OSError as error:
            raise ControlClientError(
                f"the control connection failed: {error.strerror or error}", EXIT_FAILURE
            ) from None
    if not data:
        raise ControlClientError(f"makerd closed {path} without answering", EXIT_FAILURE)
    try:
        answer = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        answer = None  # RecursionError: nested past the decoder's limit
    if not isinstance(answer, dict):
        raise ControlClientError(
            f"makerd answered something that is not JSON: {data[:200]!r}", EXIT_FAILURE
        )
    return answer


def check_socket_file(path: Path) -> None:
    """Refuse a control socket another user could have made or could reach."""
    directory = path.parent
    try:
        status = os.lstat(path)
        folder = os.stat(directory)
    except FileNotFoundError:
        raise ControlClientError(
            f"no makerd is running with state directory {directory} (no {path.name} there)",
            EXIT_NOT_RUNNING,
        ) from None
    except OSError as error:
        raise ControlClientError(f"cannot inspect {path}: {error.strerror}", EXIT_REFUSED) from None
    mode = stat.S_IMODE(status.st_mode)
    if not stat.S_ISSOCK(status.st_mode):
        problem = "is not a socket"
    elif status.st_uid != os.geteuid():
        problem = (
            f"belongs to uid {status.st_uid}, not to you (uid {os.geteuid()}); run makerd ctl "
            "as the user makerd runs as"
        )
    elif mode & 0o077:
        problem = (
            f"has mode {mode:04o}: other users could reach it (makerd creates it 0600); "
            "restart makerd to recreate it"
        )
    elif stat.S_IMODE(folder.st_mode) & 0o022:
        problem = f"is in a directory other users may write to (mode {folder.st_mode & 0o777:04o})"
    else:
        return
    raise ControlClientError(f"refusing the control socket {path}: it {problem}", EXIT_REFUSED)


def _connect(connection: socket.socket, path: Path, deadline: float) -> None:
    while True:
        try:
            return _connect_once(connection, path)
        except BlockingIOError:
            # makerd's queue of waiting clients is full: wait for room, as for an answer.
            if time.monotonic() >= deadline:
                raise ControlClientError(
                    f"makerd's control socket {path} stayed busy (its queue full)", EXIT_FAILURE
                ) from None
            time.sleep(_BUSY_RETRY_S)


def _connect_once(connection: socket.socket, path: Path) -> None:
    try:
        with bindable(path) as address:
            connection.connect(address)
    except BlockingIOError:
        raise
    except (FileNotFoundError, ConnectionRefusedError):
        raise ControlClientError(
            f"no makerd is running with state directory {path.parent} "
            f"({path.name} is left from a run that did not stop cleanly)",
            EXIT_NOT_RUNNING,
        ) from None
    except PermissionError as error:
        raise ControlClientError(f"refused: {path}: {error.strerror}", EXIT_REFUSED) from None
    except TimeoutError:
        raise ControlClientError(f"makerd did not accept on {path} in time", EXIT_FAILURE) from None
    except OSError as error:
        raise ControlClientError(f"cannot connect to {path}: {error}", EXIT_FAILURE) from None


def _send(connection: socket.socket, command: str) -> None:
    # makerd may answer (a refusal) and close before reading: then its answer says why.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        connection.sendall(json.dumps({"command": command}).encode() + b"\n")


def _read_line(connection: socket.socket, deadline: float) -> bytes:
    data = b""
    while b"\n" not in data and len(data) <= MAX_ANSWER_BYTES:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        connection.settimeout(left)
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]
