"""The one error a recording can raise: a file that cannot be read, named by file and line."""

from __future__ import annotations

from pathlib import Path


class RecordingError(ValueError):
    """A recording that is truncated, corrupt or not in a known format.

    The message is ``FILE:LINE: problem``: enough for a user to open the file at the
    line; no traceback is needed to act on it. Line 0 means the file as a whole (missing,
    or of an unknown kind), found before reading it: the message is then ``FILE: problem``.
    """

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}" if line else f"{path}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem
