"""Red team: ``makerd record`` on a disk that fills, as a real process against the local
venue. The file size limit (RLIMIT_FSIZE) is lowered on the running recorder, so the
next byte it writes fails as on a full disk. Whatever the moment, every completed file
stays whole and the recorder exits 1 saying why, never 0."""

from __future__ import annotations

import gzip
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.processes import MakerdProcess

FULL = 64
"""Bytes a file may reach once the disk is "full": less than any open file holds."""


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    thread = VenueThread(VenueConfig(port=0, auto_provision=True, seed=5, tick_interval_s=0.1))
    thread.start()
    yield thread
    thread.stop()


def recording_a_file_a_second(venue: VenueThread, out: Path) -> MakerdProcess:
    args = ["--log-format", "text", "record", "--coin", "BTC", "--out", str(out)]
    process = MakerdProcess([*args, "--api-url", venue.url, "--rotate-s", "1"], cwd=out.parent)
    process.wait_for(r"event=recording_file_completed")
    return process


def fill_the_disk(process: MakerdProcess) -> None:
    resource.prlimit(process.proc.pid, resource.RLIMIT_FSIZE, (FULL, FULL))


def assert_completed_files_are_whole(out: Path) -> None:
    completed = sorted(out.glob("*.gz"))
    assert completed, "a file a second: at least one was completed before the disk filled"
    for path in completed:
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as file:
            text = file.read()  # a torn or unfinished stream raises here
        assert text.endswith("\n")
        for line in text.splitlines():
            stamp, _, message = line.partition(" ")
            assert stamp.isdigit(), f"{path.name}: {line[:80]}"
            assert message.startswith("{"), f"{path.name}: {line[:80]}"


def test_a_disk_that_fills_while_recording_ends_it_with_exit_1_and_whole_files(
    venue: VenueThread, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    process = recording_a_file_a_second(venue, out)

    fill_the_disk(process)

    assert process.finish(20) == 1, process.text
    assert "event=recording_failed" in process.text
    assert "Traceback" not in process.text
    assert_completed_files_are_whole(out)


def test_a_disk_that_fills_as_the_recorder_is_stopped_is_exit_1_not_a_clean_stop(
    venue: VenueThread, tmp_path: Path
) -> None:
    # The stop writes what is queued and finishes the open file: on a full disk that
    # fails, and the file is left unfinished. Exit 0 would tell systemd, or a script
    # waiting for the hour's file, that it was finished.
    out = tmp_path / "rec"
    process = recording_a_file_a_second(venue, out)

    fill_the_disk(process)
    process.signal(signal.SIGTERM)

    assert process.finish(20) == 1, process.text
    assert "event=recording_failed" in process.text
    assert "Traceback" not in process.text
    assert_completed_files_are_whole(out)


FINISH_ON_A_FULL_DISK = """
import resource, sys, time
from pathlib import Path
from makerd.venues.hyperliquid.recording import RecordingWriter
from makerd.venues.hyperliquid.recording_files import HourlyFiles

files = HourlyFiles(out_dir=Path(sys.argv[1]), label="BTC")
writer = RecordingWriter(files)
writer.start()
writer.record(time.time_ns(), '{"channel":"trades","data":[]}')
while files.open_path is None or files.lines < 1:
    time.sleep(0.01)
time.sleep(0.3)  # the writer has caught up: its line is flushed
size = files.open_path.stat().st_size
# Room for an empty flush, not for the gzip trailer that finishing the file writes.
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 5, size + 5))
writer.stop()
print("failed:", type(writer.failed).__name__)
"""


def test_finishing_a_file_on_a_full_disk_is_the_writers_failure_not_a_thread_traceback(
    tmp_path: Path,
) -> None:
    out = tmp_path / "rec"

    child = subprocess.run(
        [sys.executable, "-c", FINISH_ON_A_FULL_DISK, str(out)],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )

    assert child.returncode == 0, child.stderr
    assert "failed: OSError" in child.stdout
    assert "Traceback" not in child.stderr
    assert [p.suffix for p in out.iterdir()] == [".part"], "never renamed unfinished"
