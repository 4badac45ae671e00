"""Hostile requests on the control socket must not end the operator's channel, and a
command makerd acted on is answered as done, whatever fails after it."""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.actors.gate import TradingGate
from makerd.config.model import MakerdConfig
from makerd.daemon.control_client import request
from makerd.daemon.control_desk import AnswerBox, ControlDesk, DeskParts
from makerd.daemon.control_server import ControlServer
from makerd.daemon.control_socket import IO_TIMEOUT_S
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.status_snapshot import StatusSnapshot
from makerd.protocol.clock import ManualClock
from makerd.protocol.control import PauseTrading
from tests.kit import T0, operator_applied


@pytest.fixture
def handled(tmp_path: Path) -> Iterator[list[str]]:
    """A control server on ``tmp_path`` for the test's length; the commands it handled."""
    commands: list[str] = []

    def handle(command: str, uid: int) -> dict[str, object]:
        commands.append(command)
        return {"ok": True, "command": command}

    server = ControlServer(tmp_path, handle)
    server.open()
    server.start()
    yield commands
    server.stop()


def test_a_deeply_nested_request_is_refused_and_the_next_command_is_still_answered(
    tmp_path: Path, handled: list[str]
) -> None:
    # Within the size bound, but deeper than the JSON decoder's recursion limit.
    refusal = _exchange(tmp_path / "control.sock", b"[" * 4000 + b"\n")
    answer = request(tmp_path, "status", timeout_s=3)

    assert refusal == b'{"ok": false, "error": "request is not JSON"}\n'
    assert answer == {"ok": True, "command": "status"}
    assert handled == ["status"]


def test_a_client_that_connects_and_never_sends_delays_the_next_command_by_at_most_the_io_timeout(
    tmp_path: Path, handled: list[str]
) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.settimeout(5)
        silent.connect(str(tmp_path / "control.sock"))
        started = time.monotonic()
        answer = request(tmp_path, "status", timeout_s=2 * IO_TIMEOUT_S + 1)
        waited_s = time.monotonic() - started
        told = silent.recv(65536)

    assert answer == {"ok": True, "command": "status"}
    assert waited_s < IO_TIMEOUT_S + 1
    assert (
        told
        == f'{{"ok": false, "error": "no complete request within {IO_TIMEOUT_S} s"}}\n'.encode()
    )
    assert handled == ["status"]


def _exchange(path: Path, raw: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(5)
        connection.connect(str(path))
        connection.sendall(raw)
        return connection.recv(65536)


def test_a_command_acted_on_is_answered_as_done_when_the_journal_cannot_record_it(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    session = journal.start_session(mode="sim", coin="BTC", ts_ns=T0)
    answers = AnswerBox()

    def order_manager(message: object) -> None:  # acts at once, as a paused one would
        assert isinstance(message, PauseTrading)
        answers.deliver(operator_applied(request_id=message.request_id))

    desk = ControlDesk(
        DeskParts(
            snapshot=StatusSnapshot,
            config=MakerdConfig,
            send=order_manager,
            journal=journal,
            session_id=session,
            clock=ManualClock(T0),
            gate=TradingGate(),
            latch=KillSwitchLatch(tmp_path),
            answers=answers,
        )
    )
    # Another process holds the journal's write lock: our write waits, then fails.
    holder = sqlite3.connect(tmp_path / "journal.sqlite", timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        answer = desk.handle("pause", os.geteuid())
    finally:
        holder.rollback()
        holder.close()
        journal.close()

    assert answer["ok"] is True, answer
    assert answer["paused"] is True
