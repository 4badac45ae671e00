"""Every refusal to start tells systemd why: a real makerd, a real NOTIFY_SOCKET datagram.

Under systemd, a refused start that only wrote to stderr left the unit's status line empty
(``systemctl status`` showed ``status=78/CONFIG`` and nothing else). Each case here refuses
before any actor runs, each by a different path, and each must send ``STOPPING=1`` with a
``STATUS=`` naming the reason, and never ``READY=1``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_CONFIG, EXIT_KILL_SWITCH, EXIT_LOCKED, EXIT_TEMPFAIL
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.refusal import status_line
from makerd.daemon.state_lock import StateDirLock
from tests.processes import MakerdProcess, write_config

Arrange = Callable[[Path], list[str]]
"""Sets up one way to be refused in a test folder; returns makerd's ``run`` arguments."""


def _invalid_config(folder: Path) -> list[str]:
    config = write_config(folder / "bad.yaml", {"risk": {"max_position": -1}})
    return ["--config", str(config)]


def _latched(folder: Path) -> list[str]:
    KillSwitchLatch(folder / "state").trip(reason="drawdown", detail="test", ts_ns=1)
    return []


def _unreachable_venue(folder: Path) -> list[str]:
    with socket.socket() as probe:  # a port nothing listens on once this closes
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = write_config(
        folder / "paper.yaml",
        {
            "mode": "paper",
            "hyperliquid": {"api_url": f"http://127.0.0.1:{port}", "start_retry_s": 0},
        },
    )
    return ["--config", str(config)]


CASES: dict[str, tuple[Arrange, int, str]] = {
    "invalid config": (_invalid_config, EXIT_CONFIG, "STATUS=invalid configuration: "),
    "kill switch latched": (_latched, EXIT_KILL_SWITCH, "STATUS=kill switch is latched"),
    "venue unreachable": (
        _unreachable_venue,
        EXIT_TEMPFAIL,
        "STATUS=venue unavailable, try again later: ",
    ),
}


def _refused(folder: Path, args: list[str]) -> tuple[int, list[str], str]:
    """Run makerd with ``args``; its exit code, every datagram's lines, and its output."""
    path = folder / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        makerd = MakerdProcess(
            ["run", "--state-dir", str(folder / "state"), "--metrics-port", "0", *args],
            cwd=folder,
            env={"NOTIFY_SOCKET": str(path)},
        )
        code = makerd.finish()
        sock.setblocking(False)
        lines: list[str] = []
        while True:
            try:
                lines += sock.recv(4096).decode().splitlines()
            except BlockingIOError:
                break
    return code, lines, makerd.text


@pytest.mark.parametrize("case", list(CASES))
def test_a_refused_start_tells_systemd_it_is_stopping_and_why(tmp_path: Path, case: str) -> None:
    arrange, expected_code, status = CASES[case]
    code, lines, output = _refused(tmp_path, arrange(tmp_path))

    assert code == expected_code, output
    assert "STOPPING=1" in lines, f"nothing told systemd; output: {output}"
    assert any(line.startswith(status) for line in lines), lines
    assert "READY=1" not in lines


def test_a_second_makerd_on_a_locked_state_dir_tells_systemd_why(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    with StateDirLock(tmp_path / "state"):
        code, lines, output = _refused(tmp_path, [])

    assert code == EXIT_LOCKED, output
    assert "STOPPING=1" in lines
    assert any(line.startswith("STATUS=refusing to start: ") for line in lines), lines


def test_the_status_line_is_one_line_naming_each_problem() -> None:
    message = "makerd: invalid configuration\n  a.yaml: risk.max_position: must be > 0\n  q: x\n"
    assert status_line(message) == (
        "invalid configuration: a.yaml: risk.max_position: must be > 0; q: x"
    )
