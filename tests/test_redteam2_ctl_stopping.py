"""A SIGTERM while ``makerd ctl flatten`` waits for the order_manager: the answer says
makerd is stopping (it knows), not that the order_manager was too slow.

The order_manager is made to hang (``faults.hang_role``) so that the command is still
waiting when the signal lands; the watchdog is told to wait longer than the test.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_FAILURE
from tests.processes import MakerdProcess, write_config

HANG_AFTER_S = 2.0


def test_a_sigterm_during_a_flatten_is_answered_as_makerd_stopping(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "run.yaml",
        {
            "faults": {"hang_role": "order_manager", "hang_after_s": HANG_AFTER_S},
            "watchdog": {"deadline_s": 20.0},
            "stop_timeout_s": 3.0,
        },
    )
    state = tmp_path / "state"
    run = MakerdProcess(
        ["run", "--state-dir", str(state), "--metrics-port", "0", "--config", str(config)],
        cwd=tmp_path,
    )
    try:
        run.wait_for(r"makerd sim BTC \| .* orders=[1-9]")
        time.sleep(HANG_AFTER_S)  # past the hang: the order_manager answers nothing now
        flatten = subprocess.Popen(
            [sys.executable, "-m", "makerd", "ctl", "flatten", "--state-dir", str(state)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        time.sleep(0.5)  # the desk is waiting for the hung order_manager's answer
        run.signal(signal.SIGTERM)
        out, err = flatten.communicate(timeout=30)
    finally:
        run.kill_if_running()

    assert flatten.returncode == EXIT_FAILURE, out + err
    assert "makerd is stopping (" in err, err
    assert "did not answer within" not in err
    assert "it may or may not have acted" in err
