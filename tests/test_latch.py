"""The kill-switch latch survives restarts and fails safe on a file it cannot read."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest

from makerd.daemon.latch import (
    CLAIM_FILE_NAME,
    CORRUPT_LATCH_REASON,
    FULL_DISK_LATCH_REASON,
    LATCH_FILE_NAME,
    RESERVE_FILE_NAME,
    KillSwitchLatch,
    LatchChangedError,
    LatchState,
)

T0 = 1_700_000_000_000_000_000


def test_a_fresh_state_directory_is_armed(tmp_path: Path) -> None:
    latch = KillSwitchLatch(tmp_path / "state")

    assert latch.read() is None
    assert latch.is_tripped is False


def test_a_trip_is_seen_by_a_new_latch_on_the_same_directory(tmp_path: Path) -> None:
    KillSwitchLatch(tmp_path / "state").trip(reason="max_drawdown", detail="-301 USD", ts_ns=T0)

    after_restart = KillSwitchLatch(tmp_path / "state").read()

    assert after_restart == LatchState(reason="max_drawdown", detail="-301 USD", tripped_at_ns=T0)


def test_the_latch_file_is_private_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"

    KillSwitchLatch(state_dir).trip(reason="operator", detail="", ts_ns=T0)

    assert [p.name for p in state_dir.iterdir()] == [LATCH_FILE_NAME]
    assert stat.S_IMODE((state_dir / LATCH_FILE_NAME).stat().st_mode) == 0o600


def test_clearing_removes_the_latch_and_returns_what_was_cleared(tmp_path: Path) -> None:
    latch = KillSwitchLatch(tmp_path)
    latch.trip(reason="stale_feed", detail="61 s", ts_ns=T0)

    cleared = latch.clear()

    assert cleared == LatchState(reason="stale_feed", detail="61 s", tripped_at_ns=T0)
    assert latch.read() is None
    assert latch.clear() is None


def test_tripping_again_replaces_the_reason(tmp_path: Path) -> None:
    latch = KillSwitchLatch(tmp_path)
    latch.trip(reason="stale_feed", detail="", ts_ns=T0)

    latch.trip(reason="max_position", detail="0.06", ts_ns=T0 + 1)

    assert latch.read() == LatchState(reason="max_position", detail="0.06", tripped_at_ns=T0 + 1)


def test_a_corrupt_latch_file_reads_as_tripped(tmp_path: Path) -> None:
    (tmp_path / LATCH_FILE_NAME).write_text('{"reason": "max_dra', encoding="utf-8")

    state = KillSwitchLatch(tmp_path).read()

    assert state is not None
    assert state.reason == CORRUPT_LATCH_REASON


def test_a_latch_file_of_the_wrong_shape_reads_as_tripped(tmp_path: Path) -> None:
    for content in ("[]", '{"reason": "x", "detail": "", "tripped_at_ns": true}', "{}"):
        (tmp_path / LATCH_FILE_NAME).write_text(content, encoding="utf-8")

        state = KillSwitchLatch(tmp_path).read()

        assert state is not None, content
        assert state.reason == CORRUPT_LATCH_REASON, content


def test_an_empty_latch_file_reads_as_tripped_on_a_full_disk(tmp_path: Path) -> None:
    (tmp_path / LATCH_FILE_NAME).write_bytes(b"")

    state = KillSwitchLatch(tmp_path).read()

    assert state is not None
    assert state.reason == FULL_DISK_LATCH_REASON
    assert "the disk was full" in state.detail


def test_a_reserve_left_by_an_earlier_run_is_no_latch(tmp_path: Path) -> None:
    KillSwitchLatch(tmp_path).reserve()

    after_restart = KillSwitchLatch(tmp_path)

    assert (tmp_path / RESERVE_FILE_NAME).stat().st_size == 0
    assert after_restart.read() is None


def test_a_corrupt_latch_can_be_cleared_by_the_operator(tmp_path: Path) -> None:
    (tmp_path / LATCH_FILE_NAME).write_bytes(b"\xff\xfe")
    latch = KillSwitchLatch(tmp_path)

    cleared = latch.clear()

    assert cleared is not None
    assert cleared.reason == CORRUPT_LATCH_REASON
    assert latch.read() is None


def test_racing_trips_leave_one_complete_latch(tmp_path: Path) -> None:
    latch = KillSwitchLatch(tmp_path)
    threads = [
        threading.Thread(target=latch.trip, kwargs={"reason": f"r{n}", "detail": "", "ts_ns": n})
        for n in range(8)
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    state = latch.read()

    assert state is not None
    assert state.reason in {f"r{n}" for n in range(8)}
    assert json.loads((tmp_path / LATCH_FILE_NAME).read_text())["reason"] == state.reason
    assert [p.name for p in tmp_path.iterdir()] == [LATCH_FILE_NAME]


def test_a_trip_that_lands_between_a_clears_record_and_its_removal_stays_latched(
    tmp_path: Path,
) -> None:
    latch = KillSwitchLatch(tmp_path)
    latch.trip(reason="stale_feed", detail="61 s", ts_ns=T0)
    recorded = latch.read()  # what the operator's clear journals
    latch.trip(reason="max_drawdown", detail="101 USD", ts_ns=T0 + 1)  # still stopping

    with pytest.raises(LatchChangedError) as changed:
        latch.clear(recorded=recorded)

    assert changed.value.now == LatchState(
        reason="max_drawdown", detail="101 USD", tripped_at_ns=T0 + 1
    )
    assert latch.read() == changed.value.now, "the newer trip is still latched"
    assert latch.clear(recorded=changed.value.now) == changed.value.now


def test_a_clear_that_died_after_taking_the_latch_aside_leaves_it_latched(tmp_path: Path) -> None:
    latch = KillSwitchLatch(tmp_path)
    latch.trip(reason="stale_feed", detail="61 s", ts_ns=T0)
    (tmp_path / LATCH_FILE_NAME).rename(tmp_path / CLAIM_FILE_NAME)  # then the clear died

    after_restart = KillSwitchLatch(tmp_path)

    assert after_restart.read() == LatchState(reason="stale_feed", detail="61 s", tripped_at_ns=T0)
    assert after_restart.clear() is not None
    assert after_restart.read() is None
