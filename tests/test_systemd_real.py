"""deploy/systemd/makerd.service under a real systemd, as an operator would run it.

The other unit tests read the file or emulate what systemd provides; these boot systemd
itself (tests/systemd_lab.py) and hold the unit to what its comments promise: ready only
when quoting, watched, hardened, reloaded by SIGHUP, stopped with every order cancelled,
restarted after a crash and not after a configuration error.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Iterator

import pytest

from makerd.daemon.exit_codes import EXIT_CONFIG, EXIT_FAILURE
from tests.systemd_lab import LAB_PYTHON, ROOT, SystemdLab, unavailable

UNIT = "makerd.service"
WHY_NOT = unavailable()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=f"no real systemd: {WHY_NOT}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SystemdLab]:
    systemd = SystemdLab(tmp_path_factory.mktemp("systemd-lab"))
    try:
        systemd.boot()
        yield systemd
    finally:
        systemd.shutdown()


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.25)


def proc_status(lab: SystemdLab, pid: str) -> dict[str, str]:
    text = lab.run("cat", f"/proc/{pid}/status").stdout
    return {key: value.strip() for key, value in (line.split(":", 1) for line in text.splitlines())}


def test_the_unit_is_ready_when_quoting_watched_hardened_and_stops_with_nothing_open(
    lab: SystemdLab,
) -> None:
    started = lab.run("systemctl", "start", UNIT)  # Type=notify: returns after READY=1

    assert started.returncode == 0, started.stderr + lab.journal(UNIT)
    shown = lab.show(UNIT, "ActiveState", "SubState", "MainPID", "StatusText", "WatchdogUSec")
    assert (shown["ActiveState"], shown["SubState"]) == ("active", "running")
    assert "orders=" in shown["StatusText"], "STATUS= carries the status line"
    assert shown["WatchdogUSec"] == "10s"

    status = proc_status(lab, shown["MainPID"])
    user = lab.run("id", "-u", "makerd").stdout.strip()
    assert status["Uid"].split()[0] == user != "0"
    assert status["NoNewPrivs"] == "1"
    assert status["CapEff"] == "0000000000000000"
    assert status["Seccomp"] == "2", "SystemCallFilter= is in force"
    environ = lab.run("cat", f"/proc/{shown['MainPID']}/environ").stdout.split("\0")
    assert any(entry.startswith("CREDENTIALS_DIRECTORY=") for entry in environ)

    def pinged() -> int:
        return int(lab.show(UNIT, "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"])

    first = pinged()
    wait_until(lambda: pinged() > first, 8.0, "a WATCHDOG=1 within half of WatchdogSec=10s")

    assert lab.run("systemctl", "reload", UNIT).returncode == 0
    wait_until(lambda: "config_reload result=applied" in lab.journal(UNIT), 10.0, "SIGHUP applied")

    stopped = lab.run("systemctl", "stop", UNIT)

    assert stopped.returncode == 0, stopped.stderr
    after = lab.show(UNIT, "ActiveState", "Result", "ExecMainStatus")
    assert after == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"}
    journal = lab.journal(UNIT)
    assert "confirms 0 open orders" in journal
    assert lab.journal(UNIT, "-p", "err") == "", "a clean run logs nothing at error priority"
    assert "event=started mode=sim" in lab.journal(UNIT, "-p", "info")


def test_a_crash_is_restarted_and_a_configuration_error_is_not(lab: SystemdLab) -> None:
    assert lab.run("systemctl", "start", UNIT).returncode == 0
    first_pid = lab.show(UNIT, "MainPID")["MainPID"]

    lab.run("systemctl", "kill", "--kill-whom=main", "--signal=SIGKILL", UNIT)

    wait_until(
        lambda: (
            lab.show(UNIT, "NRestarts")["NRestarts"] == "1"
            and lab.show(UNIT, "SubState")["SubState"] == "running"
        ),
        30.0,
        "Restart=on-failure after RestartSec=10s",
    )
    assert lab.show(UNIT, "MainPID")["MainPID"] != first_pid
    assert lab.run("systemctl", "stop", UNIT).returncode == 0

    lab.write("/etc/makerd/config.yaml", "quoting:\n  levels: many\n")
    refused = lab.run("systemctl", "start", UNIT)

    assert refused.returncode != 0, "start fails: makerd exits before READY=1"
    shown = lab.show(UNIT, "ActiveState", "ExecMainStatus")
    # "failed", not "activating (auto-restart)": RestartPreventExitStatus= holds exit 78.
    assert shown == {"ActiveState": "failed", "ExecMainStatus": str(EXIT_CONFIG)}
    assert "quoting.levels" in lab.journal(UNIT, "-p", "err"), "the field, at error priority"


def test_a_start_refused_for_a_taken_metrics_port_shows_systemd_why(lab: SystemdLab) -> None:
    lab.write("/etc/makerd/config.yaml", (ROOT / "config" / "sim.yaml").read_text())
    lab.run("systemctl", "reset-failed", UNIT)  # earlier tests' starts count to the limit
    holder = lab.run(
        *("systemd-run", "--unit=port-holder", str(LAB_PYTHON), "-c"),
        "import socket, time\nheld = socket.create_server(('127.0.0.1', 9108))\ntime.sleep(3600)\n",
    )
    assert holder.returncode == 0, holder.stderr
    wait_until(
        lambda: lab.run(str(LAB_PYTHON), "-c", CONNECTS_TO_9108).returncode == 0,
        10.0,
        "the port held in the lab",
    )

    refused = lab.run("systemctl", "start", UNIT)
    shown = lab.show(UNIT, "StatusText", "StatusErrno", "ExecMainStatus")
    lab.run("systemctl", "stop", UNIT, "port-holder.service")

    assert refused.returncode != 0, "start fails: makerd exits before READY=1"
    assert shown == {
        "StatusText": "start failed at metrics: cannot serve metrics on 127.0.0.1:9108: "
        "Address already in use",
        "StatusErrno": str(errno.EADDRINUSE),
        "ExecMainStatus": str(EXIT_FAILURE),
    }


CONNECTS_TO_9108 = "import socket; socket.create_connection(('127.0.0.1', 9108), 1).close()"
