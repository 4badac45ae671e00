"""sd_notify datagrams from a real makerd process, received on a real unix socket."""

from __future__ import annotations

import errno
import signal
import socket
import time
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_FAILURE, EXIT_OK
from tests.processes import MakerdProcess, write_config
from tests.start_failure_kit import held_port


def receive_until(sock: socket.socket, wanted: bytes, seen: list[bytes], timeout: float) -> None:
    sock.settimeout(timeout)
    while not any(wanted in datagram for datagram in seen):
        seen.append(sock.recv(4096))


def test_makerd_tells_systemd_ready_status_watchdog_and_stopping(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        env = {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "2000000"}
        makerd = MakerdProcess(
            ["run", "--state-dir", str(tmp_path / "state"), "--metrics-port", "0"],
            cwd=tmp_path,
            env=env,
        )
        seen: list[bytes] = []

        receive_until(sock, b"READY=1", seen, timeout=30)
        receive_until(sock, b"WATCHDOG=1", seen, timeout=10)
        receive_until(sock, b"STATUS=mid=", seen, timeout=15)
        makerd.signal(signal.SIGTERM)
        receive_until(sock, b"STOPPING=1", seen, timeout=15)
        code = makerd.finish()

    assert code == EXIT_OK, makerd.text
    ready = next(d for d in seen if b"READY=1" in d)
    assert b"STATUS=" in ready, "READY carries the first status line"
    order = [i for i, d in enumerate(seen) if b"READY=1" in d or b"STOPPING=1" in d]
    assert len(order) == 2
    assert seen.index(ready) < order[-1], "READY comes before STOPPING"


def test_watchdog_pings_follow_watchdog_usec_not_the_actor_ping_interval(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    # Actors answer every 0.2 s; WATCHDOG_USEC=6 s asks for a ping every 3 s.
    config = write_config(tmp_path / "fast.yaml", {"watchdog": {"ping_interval_s": 0.2}})
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        started = time.monotonic()
        makerd = MakerdProcess(
            [
                *("run", "--config", str(config), "--state-dir", str(tmp_path / "state")),
                *("--metrics-port", "0", "--duration", "8"),
            ],
            cwd=tmp_path,
            env={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "6000000"},
        )
        seen: list[bytes] = []
        receive_until(sock, b"STOPPING=1", seen, timeout=60)
        elapsed = time.monotonic() - started
        code = makerd.finish()

    pings = sum(datagram == b"WATCHDOG=1" for datagram in seen)
    assert code == EXIT_OK, makerd.text
    assert pings >= 1
    # At most one per 3 s since the first (the bound is a guarantee, not a timing hope):
    # pinging on every answer would have sent about 40.
    assert pings <= elapsed / 3 + 1, (pings, elapsed)


def test_a_start_that_fails_before_trading_tells_systemd_it_is_stopping_and_why(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock, held_port() as port:
        sock.bind(str(path))
        makerd = MakerdProcess(
            ["run", "--state-dir", str(tmp_path / "state"), "--metrics-port", str(port)],
            cwd=tmp_path,
            env={"NOTIFY_SOCKET": str(path)},
        )
        code = makerd.finish()
        seen: list[bytes] = []
        receive_until(sock, b"STOPPING=1", seen, timeout=10)  # sent before the exit

    stopping = next(d for d in seen if b"STOPPING=1" in d).decode().splitlines()
    assert code == EXIT_FAILURE, makerd.text
    assert stopping == [
        "STOPPING=1",
        f"STATUS=start failed at metrics: cannot serve metrics on 127.0.0.1:{port}: "
        "Address already in use",
        f"ERRNO={errno.EADDRINUSE}",
    ]
    assert not any(b"READY=1" in d for d in seen)
