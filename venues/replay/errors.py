"""The one error a recording can raise: a file that cannot be read, named by file and line."""

from __future__ import annotations

from pathlib import Path


class RecordingError(ValueError):
    """A recording that is truncated, corrupt or not in a known format.

    The message is ``FILE:LINE: problem``: enough for a user to open the file at the
    line; no traceback is needed to act on it.
    """

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem
