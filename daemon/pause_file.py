"""An operator's pause that outlives the process: ``STATE_DIR/paused`` exists while paused.

``makerd ctl pause`` (or ``flatten``) means "quote nothing until I say resume". A crash and
a restart by the service manager must not undo that, so the pause is also a file: created
(mode 0600) when quoting is paused, removed on resume, and read at start. A pause that
cannot be written is still held in memory and logged; a resume whose file cannot be
removed is logged too, and the next start stays paused, the safe side of the mistake.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from makerd.actors.operator_hold import PauseMemory

PAUSE_FILE_NAME = "paused"
_FILE_MODE = 0o600

log = logging.getLogger(__name__)


class PersistedPause(PauseMemory):
    """The order_manager's pause memory, mirrored in ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__()
        self.path = state_dir / PAUSE_FILE_NAME
        if self.path.exists():
            super().set(paused=True)

    def set(self, *, paused: bool) -> None:
        super().set(paused=paused)
        try:
            if paused:
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, _FILE_MODE))
            else:
                self.path.unlink(missing_ok=True)
        except OSError as error:
            log.error("event=pause_file_failed paused=%s error=%r", paused, error)
