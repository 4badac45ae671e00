"""Supervision in a real process: crashes restarted, hangs replaced, crash loops escalated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_GAVE_UP, EXIT_KILL_SWITCH, EXIT_OK
from makerd.daemon.latch import KillSwitchLatch
from tests.processes import MakerdProcess, write_config


def restarts(state_dir: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(state_dir / "journal.sqlite") as db:
        return [(str(r), str(k)) for r, k in db.execute("SELECT role, kind FROM restarts")]


def drill(tmp_path: Path, overrides: dict[str, object], *extra: str) -> MakerdProcess:
    """makerd with a fault-injection config, its state in tmp_path/state."""
    config = write_config(tmp_path / "drill.yaml", overrides)
    args = ["run", "--config", str(config), "--state-dir", str(tmp_path / "state")]
    return MakerdProcess([*args, "--metrics-port", "0", *extra], cwd=tmp_path)


def test_a_crashing_actor_is_restarted_and_quoting_goes_on(tmp_path: Path) -> None:
    state = tmp_path / "state"
    makerd = drill(
        tmp_path,
        {
            "faults": {"crash_role": "quoter", "crash_every_s": 2.0},
            "supervisor": {"max_restarts": 10, "period_s": 60},
        },
        "--duration",
        "9",
    )
    makerd.wait_for(r"event=child_restarted role=quoter")
    makerd.wait_for(r"restarts=[1-9].*state=normal")  # still quoting after the restart
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text
    survived = restarts(state)
    assert len(survived) >= 3
    assert all(row == ("quoter", "crashed") for row in survived)
    assert "venue confirms 0 open orders" in makerd.text


def test_exceeding_the_restart_intensity_latches_the_kill_switch_and_exits_81(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    makerd = drill(
        tmp_path,
        {
            "faults": {"crash_role": "order_manager", "crash_every_s": 0.5},
            "supervisor": {"max_restarts": 3, "period_s": 60},
        },
    )
    code = makerd.finish()
    again = MakerdProcess(["run", "--state-dir", str(state), "--duration", "1"], cwd=tmp_path)

    assert code == EXIT_GAVE_UP, makerd.text
    assert "event=supervisor_gave_up" in makerd.text
    assert len(restarts(state)) == 3, "the fourth crash in the window is not restarted"
    latched = KillSwitchLatch(state).read()
    assert latched is not None
    assert latched.reason == "restart_intensity"
    assert again.finish() == EXIT_KILL_SWITCH, "a crash-looping bot does not come back by itself"


def test_a_hung_actor_is_detected_by_the_watchdog_and_replaced(tmp_path: Path) -> None:
    state = tmp_path / "state"
    makerd = drill(
        tmp_path,
        {
            "faults": {"hang_role": "quoter", "hang_after_s": 2.0},
            "watchdog": {"ping_interval_s": 0.2, "deadline_s": 1.0},
        },
        "--duration",
        "8",
    )
    makerd.wait_for(r"event=child_restarted role=quoter .*kind=hung")
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text
    assert restarts(state) == [("quoter", "hung")]
