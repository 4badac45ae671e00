"""A kill switch that trips on a full disk still ends the run as a kill switch.

The disk fills for real, in a child process (pytest's own files must keep working):
``RLIMIT_FSIZE`` of one byte makes every write to a regular file fail, the latch's and
the journal's alike, as a full disk does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
TRIP_ON_A_FULL_DISK = """
import logging, resource, sys
from pathlib import Path
from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.config.model import RiskConfig
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.protocol.risk import KillReason, KillSwitchTripped
from tests.kit import T0

logging.basicConfig(stream=sys.stdout, format="%(message)s")
state = Path(sys.argv[1])
journal = Journal(state / "journal.sqlite")
guardian = RiskGuardianLogic(config=RiskConfig(), latch=KillSwitchLatch(state), store=journal)
resource.setrlimit(resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))  # the disk is full
out = guardian.trip(KillReason.STALE_FEED, "no market data for 61.0s", T0)
print("announced:", [type(message).__name__ for message in out])
print("tripped:", guardian.tripped)
"""


def test_a_kill_switch_tripped_on_a_full_disk_is_still_announced_and_says_what_was_lost(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", TRIP_ON_A_FULL_DISK, str(tmp_path)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    said = done.stdout + done.stderr

    assert done.returncode == 0, said
    assert "Traceback" not in said
    # KillSwitchTripped is what ends the run as a kill switch (exit 80).
    assert "announced: ['RiskStateChanged', 'KillSwitchTripped']" in said
    assert "event=kill_switch_not_latched" in said
    assert "event=state_write_failed what=risk_state" in said
