"""deploy/systemd/makerd-record@.service under a real systemd, recording the local venue.

systemd boots as PID 1 in its own namespaces (tests/systemd_lab.py); the local venue runs
inside them as a transient unit, and the recorder's unit is installed byte for byte, with
only the operator's env file pointing it at that venue.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.systemd_lab import VENV, SystemdLab, unavailable
from tests.test_systemd_real import lab, wait_until

UNIT = "makerd-record@BTC.service"
OUT = "/var/lib/makerd-record/BTC"
RECORDER = Path(__file__).resolve().parent.parent / "deploy" / "systemd" / "makerd-record@.service"
VENUE_PORT = 8787
__all__ = ["lab"]  # pytest finds the fixture here: systemd is booted once for this module
WHY_NOT = unavailable()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=f"no real systemd: {WHY_NOT}")

LISTENING = (
    "import socket, sys\n"
    "try:\n"
    f"    socket.create_connection(('127.0.0.1', {VENUE_PORT}), 1).close()\n"
    "except OSError:\n"
    "    sys.exit(1)\n"
)
COUNT_LINES = (
    "import sys, zlib\n"
    "path = sys.argv[1]\n"
    "data = open(path, 'rb').read()\n"
    "text = zlib.decompressobj(wbits=31).decompress(data).decode()\n"
    "print(text.count('\\n'))\n"
)


def files(lab: SystemdLab) -> list[str]:
    """The recording's hourly files (``instruments.json`` beside them holds the rules)."""
    listed = lab.run("ls", OUT).stdout.split()
    return sorted(name for name in listed if ".gz" in name)


def lines_in(lab: SystemdLab, name: str) -> int:
    counted = lab.run(f"{VENV}/bin/python", "-c", COUNT_LINES, f"{OUT}/{name}")
    assert counted.returncode == 0, counted.stderr
    return int(counted.stdout)


def start_venue(lab: SystemdLab) -> None:
    venue = lab.run(
        *("systemd-run", "--unit=hl-venue", f"{VENV}/bin/makerd", "venue"),
        *("--port", str(VENUE_PORT)),
    )
    assert venue.returncode == 0, venue.stderr
    python = f"{VENV}/bin/python"
    wait_until(
        lambda: lab.run(python, "-c", LISTENING).returncode == 0, 30.0, "the venue to listen"
    )


def test_the_recorder_unit_records_is_watched_stops_cleanly_and_survives_a_crash(
    lab: SystemdLab,
) -> None:
    start_venue(lab)
    lab.write("/etc/systemd/system/makerd-record@.service", RECORDER.read_text(encoding="utf-8"))
    lab.write(
        "/etc/makerd/record-BTC.env", f"MAKERD_RECORD_API_URL=http://127.0.0.1:{VENUE_PORT}\n"
    )
    assert lab.run("systemctl", "daemon-reload").returncode == 0

    started = lab.run("systemctl", "start", UNIT)  # Type=notify: returns after READY=1

    assert started.returncode == 0, started.stderr + lab.journal(UNIT)
    shown = lab.show(UNIT, "ActiveState", "SubState", "StatusText", "WatchdogUSec")
    assert (shown["ActiveState"], shown["SubState"]) == ("active", "running")
    assert shown["StatusText"].startswith("recording url=ws://127.0.0.1:8787/ws coins=BTC")
    assert shown["WatchdogUSec"] == "10s"
    wait_until(lambda: any(n.endswith(".gz.part") for n in files(lab)), 20.0, "a .part file")

    def pinged() -> int:
        return int(lab.show(UNIT, "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"])

    first = pinged()
    wait_until(lambda: pinged() > first, 8.0, "a WATCHDOG=1 within half of WatchdogSec=10s")

    # A crash: the open hour stays .part (readable), systemd restarts, a new file begins.
    (part,) = files(lab)
    wait_until(lambda: lines_in(lab, part) >= 3, 20.0, "lines in the .part file")
    lab.run("systemctl", "kill", "--kill-whom=main", "--signal=SIGKILL", UNIT)
    wait_until(
        lambda: (
            lab.show(UNIT, "NRestarts", "SubState") == {"NRestarts": "1", "SubState": "running"}
        ),
        30.0,
        "Restart=on-failure after RestartSec=10s",
    )
    assert lines_in(lab, part) >= 3, "the killed run's hour is readable to its last line"
    wait_until(lambda: len(files(lab)) == 2, 20.0, "the restarted run's own file")

    stopped = lab.run("systemctl", "stop", UNIT)

    assert stopped.returncode == 0, stopped.stderr
    after = lab.show(UNIT, "ActiveState", "Result", "ExecMainStatus")
    assert after == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"}
    left, finished = files(lab)
    assert left == part, "the crashed hour is left for the operator, untouched"
    assert finished == part.removesuffix(".gz.part") + "_2.gz", "a new name, never the old"
    assert lines_in(lab, finished) >= 1
    assert "event=recording_stopped signal=SIGTERM" in lab.journal(UNIT)
