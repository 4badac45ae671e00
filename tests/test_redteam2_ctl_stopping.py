"""A SIGTERM while ``makerd ctl flatten`` waits for the order_manager: the answer says
makerd is stopping (it knows), not that the order_manager was too slow; with several
coins, for each coin whose order_manager had not answered, beside the others' answers.

The order_manager is made to hang (``faults.hang_role``) so that the command is still
waiting when the signal lands; the watchdog is told to wait longer than the test.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_FAILURE
from tests.processes import MakerdProcess, write_config

HANG_AFTER_S = 2.0


def flatten_cut_by_a_sigterm(tmp_path: Path, **config: object) -> tuple[int, str, str]:
    """``makerd ctl flatten`` sent once ``faults.hang_role`` hangs, then makerd SIGTERMed:
    the ctl's exit code, stdout and stderr."""
    path = write_config(
        tmp_path / "run.yaml",
        {"watchdog": {"deadline_s": 20.0}, "stop_timeout_s": 3.0, **config},
    )
    state = tmp_path / "state"
    run = MakerdProcess(
        ["run", "--state-dir", str(state), "--metrics-port", "0", "--config", str(path)],
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
        # The desk waits 5 s for the hung order_manager's answer; the ctl process needs
        # about 0.5 s (more on a loaded machine) to import and connect. 2 s lands the
        # signal inside that wait with room on both sides (0.5 s flaked under load).
        time.sleep(2.0)
        run.signal(signal.SIGTERM)
        out, err = flatten.communicate(timeout=30)
    finally:
        run.kill_if_running()
    return flatten.returncode, out, err


def test_a_sigterm_during_a_flatten_is_answered_as_makerd_stopping(tmp_path: Path) -> None:
    code, out, err = flatten_cut_by_a_sigterm(
        tmp_path, faults={"hang_role": "order_manager", "hang_after_s": HANG_AFTER_S}
    )

    assert code == EXIT_FAILURE, out + err
    assert "makerd is stopping (" in err, err
    assert "did not answer within" not in err
    assert "it may or may not have acted" in err


def test_with_several_coins_the_stop_is_said_for_each_coin_that_had_not_answered(
    tmp_path: Path,
) -> None:
    code, out, err = flatten_cut_by_a_sigterm(
        tmp_path,
        coins=["BTC", "ETH"],
        faults={"hang_role": "order_manager:ETH", "hang_after_s": HANG_AFTER_S},
    )

    assert code == EXIT_FAILURE, out + err
    answer = json.loads(out)
    assert sorted(answer["coins"]) == ["BTC"], "BTC answered; ETH's order_manager was hung"
    assert answer["coins"]["BTC"]["paused"] is True, "BTC's own answer is kept"
    assert answer["error"].startswith("BTC: flattening: cancels sent for"), answer["error"]
    assert "ETH: makerd is stopping (" in err, err
    assert "before the order_manager answered: it may or may not have acted" in err, err
    assert "within" not in err, "the stop cut the wait: ETH was not slow"
