"""Who may use the control socket: makerd's own user, and nobody else."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.daemon.control_client import request
from makerd.daemon.control_server import ControlServer
from makerd.daemon.control_socket import MAX_REQUEST_BYTES

NOBODY = "nobody"


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """A state directory any user can reach (pytest's own tmp dirs are private to us)."""
    top = Path(tempfile.mkdtemp(prefix="makerd-ctl-", dir="/tmp"))
    os.chmod(top, 0o711)
    yield top
    shutil.rmtree(top)


def connect_as(uid: int, gid: int, path: Path) -> str:
    """Connect to ``path`` from a forked child running as ``uid``; what it read back."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: drop to the other user, ask, report, never return
        os.close(read_end)
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(5)
                connection.connect(str(path))
                with contextlib.suppress(BrokenPipeError):  # refused before it was read
                    connection.sendall(b'{"command": "pause"}\n')
                result = connection.recv(65536).decode()
        except BaseException as error:  # report anything to the parent, which asserts
            result = f"child failed: {error!r}"
        os.write(write_end, result.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        text = pipe.read().decode()
    os.waitpid(child, 0)
    return text


def test_the_server_refuses_a_connection_from_another_uid(reachable_dir: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("connecting as another uid needs os.setuid, which only root may call")
    try:
        nobody = pwd.getpwnam(NOBODY)
    except KeyError:
        pytest.skip(f"no {NOBODY!r} user on this machine to connect as")
    handled: list[tuple[str, int]] = []

    def handler(command: str, uid: int) -> dict[str, object]:
        handled.append((command, uid))
        return {"ok": True}

    server = ControlServer(reachable_dir, handler)
    server.open()
    server.start()
    # Loosen the socket as a careless operator might: only the server's own check is left.
    os.chmod(server.path, 0o666)
    try:
        answer = json.loads(connect_as(nobody.pw_uid, nobody.pw_gid, server.path))
    finally:
        server.stop()

    assert answer["ok"] is False
    assert answer["refused"] is True
    assert answer["error"].startswith(f"refused: uid {nobody.pw_uid} is not makerd's user")
    assert handled == [], "the command never reached makerd"
    assert not server.path.exists()


def test_a_peer_that_is_not_the_owner_is_refused_whoever_runs_the_test(tmp_path: Path) -> None:
    """The refusal itself, on any machine: a server owned by another uid than ours refuses
    our connection before reading it (the test above connects as a real other user, which
    only root can arrange)."""
    handled: list[str] = []
    owner = os.geteuid() + 1

    def handler(command: str, uid: int) -> dict[str, object]:
        handled.append(command)
        return {"ok": True}

    server = ControlServer(tmp_path, handler, owner_uid=owner)
    server.open()
    server.start()
    try:
        answer = request(tmp_path, "pause")
    finally:
        server.stop()

    assert answer["ok"] is False
    assert answer["refused"] is True
    assert answer["error"] == (f"refused: uid {os.geteuid()} is not makerd's user (uid {owner})")
    assert handled == [], "the command never reached the handler"


def test_the_socket_is_created_private_to_its_user_and_answers_it(tmp_path: Path) -> None:
    server = ControlServer(tmp_path, lambda command, uid: {"ok": True, "uid": uid})
    server.open()
    mode = stat.S_IMODE(os.lstat(server.path).st_mode)
    server.start()
    try:
        answer = request(tmp_path, "status")
    finally:
        server.stop()

    assert mode == 0o600
    assert answer == {"ok": True, "uid": os.geteuid()}


def test_a_request_past_the_size_bound_is_refused_unread(tmp_path: Path) -> None:
    handled: list[str] = []

    def handle(command: str, uid: int) -> dict[str, object]:
        handled.append(command)
        return {"ok": True}

    server = ControlServer(tmp_path, handle)
    server.open()
    server.start()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect(str(server.path))
            connection.sendall(b'{"command": "' + b"x" * MAX_REQUEST_BYTES + b'"}\n')
            answer = json.loads(connection.recv(65536))
    finally:
        server.stop()

    assert answer == {"ok": False, "error": f"request larger than {MAX_REQUEST_BYTES} bytes"}
    assert handled == []
