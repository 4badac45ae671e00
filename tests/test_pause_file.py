"""The operator's pause is a file in the state directory while it lasts."""

from __future__ import annotations

import stat
from pathlib import Path

from makerd.daemon.pause_file import PersistedPause


def test_a_pause_is_remembered_by_the_next_process_and_a_resume_forgets_it(
    tmp_path: Path,
) -> None:
    PersistedPause(tmp_path).set(paused=True)
    after_restart = PersistedPause(tmp_path)
    remembered = after_restart.paused
    mode = stat.S_IMODE(after_restart.path.stat().st_mode)
    after_restart.set(paused=False)

    assert remembered is True
    assert mode == 0o600
    assert PersistedPause(tmp_path).paused is False


def test_a_new_state_directory_starts_unpaused(tmp_path: Path) -> None:
    assert PersistedPause(tmp_path / "new").paused is False
