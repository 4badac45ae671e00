"""The control socket's server: its own thread in ``makerd run``, one connection at a time.

Each connection is checked (the peer's uid must be makerd's own), read (one line, at
most :data:`~makerd.control_socket.MAX_REQUEST_BYTES`, within
:data:`~makerd.control_socket.IO_TIMEOUT_S`), answered and closed. The thread never
blocks an actor: what it asks of the order_manager it sends as a message, and it waits for
the answer on its own time (see :mod:`makerd.control_desk`). A socket file left by a run
that crashed is replaced at start (the state directory's lock says no other run owns it);
the file is removed at stop.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import socket
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

from makerd.daemon.control_socket import (
    COMMAND_TIMEOUT_S,
    IO_TIMEOUT_S,
    MAX_REQUEST_BYTES,
    bindable,
    peer_uid,
    socket_path,
)

log = logging.getLogger("makerd.control")
Answer = dict[str, object]
Handler = Callable[[str, int], Answer]
"""``(command, peer uid) -> answer``; runs on the server's thread."""


class ControlSocketError(Exception):
    """The control socket cannot be opened; the message says why, for the operator."""


def socket_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be taken over as the control socket, or None (absent, or a
    socket or link a crashed run left). Checked before the exchange is touched."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"cannot inspect {path}: {error.strerror}"
    if stat.S_ISSOCK(status.st_mode) or stat.S_ISLNK(status.st_mode):
        return None
    return f"{path} exists and is not a socket; move it out of the state directory"


class BadRequestError(ValueError):
    """The request is not one line of JSON naming a command."""


class ControlServer:
    def __init__(self, state_dir: Path, handler: Handler, *, owner_uid: int | None = None) -> None:
        """``owner_uid``: the one user served (default: makerd's own, the effective uid)."""
        self.path = socket_path(state_dir)
        self._handler = handler
        self._owner_uid = os.geteuid() if owner_uid is None else owner_uid
        self._listener: socket.socket | None = None
        self._inode: int | None = None
        self._stopping = threading.Event()
        self._wake: tuple[int, int] | None = None
        """A pipe whose write end wakes the serving thread to stop."""
        self._thread = threading.Thread(target=self._serve, name="makerd-control", daemon=True)

    def open(self) -> None:
        """Bind ``control.sock`` (0600) and listen; :class:`ControlSocketError` if it cannot."""
        self._remove_stale()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with bindable(self.path) as address:
                listener.bind(address)
            # Before listen(): until then every connection is refused, so no one ever
            # reaches the socket while it has the umask's mode.
            os.chmod(self.path, 0o600)
            self._inode = os.lstat(self.path).st_ino
            # Served one at a time, so a crowd waits here: a short queue refused the
            # clients past it at once (EAGAIN), however long they were willing to wait.
            listener.listen(socket.SOMAXCONN)
        except OSError as error:
            listener.close()
            raise ControlSocketError(
                f"cannot open the control socket {self.path}: {error.strerror or error}"
            ) from None
        self._listener = listener
        self._wake = os.pipe()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (a request in progress is finished first) and remove the socket."""
        self._stopping.set()
        if self._wake is not None:
            os.write(self._wake[1], b"x")
        if self._thread.is_alive():
            self._thread.join(timeout=2 * IO_TIMEOUT_S + COMMAND_TIMEOUT_S)
        if self._listener is not None:
            self._listener.close()
        with contextlib.suppress(OSError):
            if os.lstat(self.path).st_ino == self._inode:
                self.path.unlink()
        if self._wake is not None:
            for end in self._wake:
                os.close(end)
            self._wake = None

    def _remove_stale(self) -> None:
        problem = socket_file_problem(self.path)
        if problem is not None:
            raise ControlSocketError(problem)
        if self.path.is_symlink() or self.path.exists():
            log.info("event=control_socket_replaced path=%s reason=stale", self.path)
            self.path.unlink()

    def _serve(self) -> None:
        assert self._listener is not None
        assert self._wake is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake[0], selectors.EVENT_READ)
            while not self._stopping.is_set():
                ready = {key.fileobj for key, _ in selector.select()}
                if self._listener in ready and not self._stopping.is_set():
                    self._accept()

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            connection, _ = self._listener.accept()
        except OSError as error:
            log.warning("event=control_accept_failed error=%r", error)
            return
        with connection:
            try:
                self._converse(connection)
            except (OSError, TimeoutError) as error:
                log.warning("event=control_connection_failed error=%r", error)

    def _converse(self, connection: socket.socket) -> None:
        connection.settimeout(IO_TIMEOUT_S)
        uid = peer_uid(connection)
        if uid is None or uid != self._owner_uid:
            log.warning("event=control_refused peer_uid=%s", uid)
            who = "an unknown user" if uid is None else f"uid {uid}"
            refusal = _error(f"refused: {who} is not makerd's user (uid {self._owner_uid})")
            _send(connection, {**refusal, "refused": True})
            return
        try:
            command = _read_request(connection)
        except BadRequestError as error:
            _send(connection, _error(str(error)))
            return
        try:
            answer = self._handler(command, uid)
        except Exception as error:  # one bad request must not end the operator's channel
            log.exception("event=control_handler_failed command=%s", command)
            answer = _error(f"internal error: {error!r}", command)
        _send(connection, answer)


def _read_request(connection: socket.socket) -> str:
    """The command named by the request line, within the size and time limits."""
    deadline = time.monotonic() + IO_TIMEOUT_S
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BadRequestError(f"no complete request within {IO_TIMEOUT_S} s")
        connection.settimeout(left)
        try:
            chunk = connection.recv(MAX_REQUEST_BYTES + 1 - len(data))
        except TimeoutError:
            raise BadRequestError(f"no complete request within {IO_TIMEOUT_S} s") from None
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_REQUEST_BYTES:
            raise BadRequestError(f"request larger than {MAX_REQUEST_BYTES} bytes")
    try:
        request = json.loads(data.split(b"\n", 1)[0])
    # RecursionError: nesting deeper than the decoder's limit fits in the size bound.
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BadRequestError("request is not JSON") from None
    command = request.get("command") if isinstance(request, dict) else None
    if not isinstance(command, str):
        raise BadRequestError('request must be a JSON object with a "command" string')
    return command


def _send(connection: socket.socket, answer: Answer) -> None:
    connection.settimeout(IO_TIMEOUT_S)
    connection.sendall(json.dumps(answer).encode() + b"\n")


def _error(message: str, command: str | None = None) -> Answer:
    answer: Answer = {"ok": False, "error": message}
    if command is not None:
        answer["command"] = command
    return answer
