"""A test that fails part-way does not leave its makerd running for the next tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.processes import MakerdProcess, open_fds, opened_since

REPO = Path(__file__).resolve().parent.parent

FAILING_TEST = """
from pathlib import Path

from tests.processes import MakerdProcess


def test_fails_while_makerd_runs(tmp_path: Path) -> None:
    process = MakerdProcess(["run", "--mode", "sim", "--duration", "300"], cwd=tmp_path)
    process.wait_for("event=started mode=sim", timeout=60)  # running; no status line needed
    Path({pid_file!r}).write_text(str(process.proc.pid))
    raise AssertionError("a failure half-way through a scenario")
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_failed_tests_makerd_is_killed_when_the_test_ends(tmp_path: Path) -> None:
    pid_file = tmp_path / "makerd.pid"
    scenario = tmp_path / "test_scenario.py"
    scenario.write_text(FAILING_TEST.format(pid_file=str(pid_file)))

    pytest_args = ["-q", "-p", "tests.conftest", "-p", "no:cacheprovider", "-o", "addopts="]
    pytest_args += [f"--basetemp={tmp_path}/inner", str(scenario)]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )

    assert "1 failed" in result.stdout, result.stdout + result.stderr
    pid = int(pid_file.read_text())
    assert not alive(pid), "the failed test's makerd was still running after its test ended"
    assert "killed 1 makerd the test left running" in result.stdout


def test_a_finished_or_killed_makerd_leaves_no_pipe_open_in_the_test_process(
    tmp_path: Path,
) -> None:
    before = open_fds()
    finished = MakerdProcess(["--version"], cwd=tmp_path)
    assert finished.finish() == 0, finished.text
    killed = MakerdProcess(["run", "--mode", "sim", "--duration", "300"], cwd=tmp_path)
    assert killed.kill_if_running()

    assert opened_since(before, settle_s=0) == set(), "a pipe of makerd's output is still open"
