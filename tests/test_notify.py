"""sd_notify over a real AF_UNIX datagram socket, as systemd would receive it."""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.daemon.notify import ServiceNotifier


@pytest.fixture
def listener(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    # pytest's tmp_path can exceed the 108-byte AF_UNIX path limit; /tmp keeps it short.
    with tempfile.TemporaryDirectory(prefix="sd", dir="/tmp") as directory:
        path = str(Path(directory) / "notify")
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        receiver.bind(path)
        receiver.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        yield receiver
        receiver.close()


def test_without_notify_socket_every_call_is_a_harmless_no_op(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = ServiceNotifier()

    notifier.ready("quoting")
    notifier.watchdog()
    sent = notifier.notify("STOPPING=1")

    assert notifier.enabled is False
    assert sent is False


def test_ready_sends_ready_and_status_in_one_datagram(listener: socket.socket) -> None:
    notifier = ServiceNotifier()

    notifier.ready("quoting BTC")

    assert notifier.enabled is True
    assert listener.recv(4096) == b"READY=1\nSTATUS=quoting BTC"


def test_each_message_arrives_exactly_as_systemd_expects(listener: socket.socket) -> None:
    notifier = ServiceNotifier({"WATCHDOG_USEC": "10000000"})

    notifier.status("mid=60000.5 orders=6")
    notifier.watchdog()
    notifier.extend_timeout(2.5)
    notifier.stopping("stopping: cancelling orders")

    assert [listener.recv(4096) for _ in range(4)] == [
        b"STATUS=mid=60000.5 orders=6",
        b"WATCHDOG=1",
        b"EXTEND_TIMEOUT_USEC=2500000",
        b"STOPPING=1\nSTATUS=stopping: cancelling orders",
    ]


def test_a_failed_start_says_stopping_and_why_with_the_errno_only_when_there_is_one(
    listener: socket.socket,
) -> None:
    notifier = ServiceNotifier()

    notifier.start_failed("start failed at actors: child 'fill_tracker' failed to start")
    notifier.start_failed("start failed at metrics: cannot serve metrics", errno=98)

    assert [listener.recv(4096) for _ in range(2)] == [
        b"STOPPING=1\nSTATUS=start failed at actors: child 'fill_tracker' failed to start",
        b"STOPPING=1\nSTATUS=start failed at metrics: cannot serve metrics\nERRNO=98",
    ]


def test_reloading_carries_the_monotonic_time(listener: socket.socket) -> None:
    notifier = ServiceNotifier()
    notifier.ready("quoting")
    listener.recv(4096)
    notifier.reloading()

    reloading, monotonic = listener.recv(4096).split(b"\n")

    assert reloading == b"RELOADING=1"
    assert monotonic.startswith(b"MONOTONIC_USEC=")
    assert int(monotonic.removeprefix(b"MONOTONIC_USEC=")) > 0


def test_a_reload_before_start_up_is_ready_says_its_status_and_never_ready(
    listener: socket.socket,
) -> None:
    notifier = ServiceNotifier()

    notifier.reloading()
    notifier.reloaded("reconciling")
    notifier.ready("quoting")
    notifier.reloading()
    notifier.reloaded("quoting again")

    datagrams = [listener.recv(4096) for _ in range(4)]
    assert datagrams[:2] == [b"STATUS=reconciling", b"READY=1\nSTATUS=quoting"]
    assert datagrams[2].startswith(b"RELOADING=1\n")
    assert datagrams[3] == b"READY=1\nSTATUS=quoting again"


def test_a_newline_in_a_status_cannot_inject_another_message(listener: socket.socket) -> None:
    ServiceNotifier().status("ok\nREADY=1")

    assert listener.recv(4096) == b"STATUS=ok READY=1"


def test_an_abstract_socket_name_is_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"makerd-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind("\0" + name)
        receiver.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)

        ServiceNotifier({"WATCHDOG_USEC": "10000000"}).watchdog()

        assert receiver.recv(4096) == b"WATCHDOG=1"


def test_a_failed_send_never_raises_and_is_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", f"/tmp/makerd-absent-{uuid.uuid4().hex}")
    notifier = ServiceNotifier({"WATCHDOG_USEC": "10000000"})

    with caplog.at_level(logging.WARNING, logger="makerd.notify"):
        notifier.watchdog()
        notifier.ready("up")
        sent = notifier.notify("WATCHDOG=1")

    assert sent is False
    assert len([r for r in caplog.records if "sd_notify" in r.getMessage()]) == 1


@pytest.mark.parametrize(
    ("environ", "interval_s"),
    [
        ({"WATCHDOG_USEC": "6000000"}, 3.0),
        ({"WATCHDOG_USEC": "6000000", "WATCHDOG_PID": str(os.getpid())}, 3.0),
        ({"WATCHDOG_USEC": "6000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({}, None),
    ],
)
def test_the_watchdog_interval_is_half_the_timeout_for_this_process_only(
    environ: dict[str, str], interval_s: float | None
) -> None:
    notifier = ServiceNotifier(environ)

    assert notifier.watchdog_interval_s() == interval_s


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def pending(receiver: socket.socket) -> list[bytes]:
    """Every datagram already queued on ``receiver``, without waiting for more."""
    receiver.setblocking(False)
    try:
        datagrams = []
        while True:
            try:
                datagrams.append(receiver.recv(4096))
            except BlockingIOError:
                return datagrams
    finally:
        receiver.settimeout(5)


def test_watchdog_pings_go_out_at_half_the_timeout_however_often_actors_answer(
    listener: socket.socket,
) -> None:
    clock = FakeMonotonic()
    notifier = ServiceNotifier({"WATCHDOG_USEC": "6000000"}, monotonic=clock)
    sent_at = []

    for answer in range(31):  # every actor answers every 0.2 s for 6 s
        notifier.watchdog()
        notifier.status("marker")  # a datagram after it shows whether a ping went first
        if pending(listener) == [b"WATCHDOG=1", b"STATUS=marker"]:
            sent_at.append(answer)
        clock.now += 0.2

    assert sent_at == [0, 15, 30]


def test_without_an_armed_watchdog_no_ping_is_sent(listener: socket.socket) -> None:
    notifier = ServiceNotifier({})

    notifier.watchdog()
    notifier.status("marker")

    assert pending(listener) == [b"STATUS=marker"]
