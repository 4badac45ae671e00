"""Signals in the second a ``makerd run`` spends importing itself, on a real process.

The test waits until the process has mapped ``_decimal`` (the daemon's imports have
begun, the run itself has not) and signals it there, where the default actions once
applied: a SIGHUP killed makerd (a clean exit to systemd, so a reload during start-up left
the service down) and a SIGINT printed a ``KeyboardInterrupt`` traceback.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK
from tests.processes import MakerdProcess, write_config

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/maps").exists(), reason="needs /proc to see the process importing"
)


def importing(makerd: MakerdProcess, timeout_s: float = 10.0) -> None:
    """Block until makerd has begun importing the daemon (it has mapped ``_decimal``)."""
    maps = Path(f"/proc/{makerd.proc.pid}/maps")
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()  # never set: a timed wait that is not time.sleep
    while "_decimal" not in maps.read_text():
        assert time.monotonic() < deadline, f"makerd never imported decimal:\n{makerd.text}"
        pause.wait(0.001)


def start(tmp_path: Path) -> MakerdProcess:
    config = str(write_config(tmp_path / "sim.yaml", {"status_interval_s": 0.5}))
    args = ["run", "--config", config, "--state-dir", str(tmp_path / "state")]
    return MakerdProcess([*args, "--metrics-port", "0"], cwd=tmp_path)


def test_a_reload_during_start_up_is_applied_and_makerd_goes_on_to_trade(tmp_path: Path) -> None:
    makerd = start(tmp_path)
    importing(makerd)

    makerd.signal(signal.SIGHUP)
    makerd.wait_for("event=config_reload result=applied")
    makerd.wait_for(r"\| mid=\d")  # a status line: quoting
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text
    assert "venue confirms 0 open orders" in makerd.text


def test_ctrl_c_during_start_up_stops_cleanly_without_a_traceback(tmp_path: Path) -> None:
    makerd = start(tmp_path)
    importing(makerd)

    makerd.signal(signal.SIGINT)
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text
    assert "Traceback" not in makerd.text
    assert "event=stop_requested signal=SIGINT" in makerd.text
    assert "venue confirms 0 open orders" in makerd.text
