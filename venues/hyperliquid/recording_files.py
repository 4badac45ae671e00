"""Recorded lines into gzip files, one per hour, that are complete or clearly unfinished.

Each line is ``<local receive time, integer ns> <message>\\n``. A file is written under
its final name plus ``.part`` and renamed (after an ``fsync``) only once it is complete:
when its hour has passed, or on :meth:`HourlyFiles.close`. So a file without ``.part`` is
never half-written, and a crash leaves at most the open hour's ``.part`` file. That one is
readable up to its last complete line because :meth:`HourlyFiles.flush` ends a gzip
block with a sync flush (the recorder calls it whenever it has caught up, and at least
every ``flush_every`` lines).

Names are ``<label>_<YYYYMMDD>_<HH>.gz`` (UTC; see :func:`file_label`) for hourly files, or
``<label>_<YYYYMMDD>_<HHMMSS>.gz`` for shorter periods. A period that already has a
file (a restart within the hour, or a line stamped just before a rotation that arrived
just after it) gets the next free ``_2``, ``_3``... suffix: a completed file is never
overwritten or appended to.

This is plain single-threaded I/O; :mod:`venues.hyperliquid.recording` runs it on its
own thread so that nothing reading the network waits for compression or the disk.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

log = logging.getLogger("makerd.recording")

HOUR_S: Final = 3600
PART_SUFFIX: Final = ".part"
_NS_PER_S: Final = 1_000_000_000
_CLOSE_GRACE_NS: Final = 2 * _NS_PER_S
"""How long after its period ends an idle file waits for a late line before closing."""
_UNSAFE_IN_NAME: Final = re.compile(r"[^A-Za-z0-9@_-]")


def file_label(coins: tuple[str, ...]) -> str:
    """The name's first part: the coin, or ``all`` for several.

    A coin name may hold ``:``, ``/`` or ``.`` (``xyz:TSLA``); each becomes ``-`` so the
    file stays a plain name inside the output directory.
    """
    if len(coins) != 1:
        return "all"
    return _UNSAFE_IN_NAME.sub("-", coins[0])


def period_problem(period_s: int) -> str | None:
    """Why ``period_s`` cannot be a rotation period, or None: 1 s to an hour, dividing it."""
    if not 1 <= period_s <= HOUR_S or HOUR_S % period_s:
        return f"must be a whole number of seconds from 1 to 3600 that divides 3600, got {period_s}"
    return None


class HourlyFiles:
    """Appends lines to the current period's ``.part`` file and rotates on time."""

    def __init__(
        self,
        *,
        out_dir: Path,
        label: str,
        period_s: int = HOUR_S,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        """``now_ns`` (epoch ns) closes a file whose period ended while no line came."""
        problem = period_problem(period_s)
        if problem:
            raise ValueError(f"period_s: {problem}")
        self._dir = out_dir
        self._label = label
        self._period_ns = period_s * _NS_PER_S
        self._now_ns = now_ns
        self._file: gzip.GzipFile | None = None
        self._path: Path | None = None
        self._period = -1
        self.completed: list[Path] = []
        """Every file this writer finished, in order."""
        self.lines = 0

    @property
    def open_path(self) -> Path | None:
        """The ``.part`` file being written, if any."""
        return None if self._path is None else _part(self._path)

    def write(self, ts_ns: int, message: str) -> None:
        period = ts_ns // self._period_ns
        if self._file is not None and period > self._period:
            self._finish()
        if self._file is None:
            self._open(period)
        assert self._file is not None  # opened just above
        self._file.write(f"{ts_ns} {message}\n".encode())
        self.lines += 1

    def flush(self) -> None:
        """Make every line written so far readable from the ``.part`` file (a sync flush)."""
        if self._file is not None:
            self._file.flush(zlib.Z_SYNC_FLUSH)

    def tick(self) -> None:
        """Close the open file once its period (and a short grace for late lines) is over."""
        if self._file is None:
            return
        period_end = (self._period + 1) * self._period_ns
        if self._now_ns() >= period_end + _CLOSE_GRACE_NS:
            self._finish()

    def close(self) -> None:
        """Finish the open file (a clean stop): it gets its final name."""
        if self._file is not None:
            self._finish()

    def _open(self, period: int) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        path = self._free_name(period)
        # mtime=0: the gzip header carries no time of its own; the lines carry theirs.
        self._file = gzip.GzipFile(_part(path), mode="xb", compresslevel=6, mtime=0)
        self._path = path
        self._period = period
        log.info("event=recording_file_opened path=%s", _part(path))

    def _free_name(self, period: int) -> Path:
        start = datetime.fromtimestamp(period * self._period_ns / _NS_PER_S, tz=UTC)
        stamp = (
            f"{start:%Y%m%d_%H}"
            if self._period_ns == HOUR_S * _NS_PER_S
            else f"{start:%Y%m%d_%H%M%S}"
        )
        base = f"{self._label}_{stamp}"
        path = self._dir / f"{base}.gz"
        suffix = 1
        while path.exists() or _part(path).exists():
            suffix += 1
            path = self._dir / f"{base}_{suffix}.gz"
        return path

    def _finish(self) -> None:
        assert self._file is not None
        assert self._path is not None
        self._file.close()
        part = _part(self._path)
        with part.open("rb") as written:
            os.fsync(written.fileno())
        part.rename(self._path)
        _fsync_dir(self._dir)
        self.completed.append(self._path)
        log.info("event=recording_file_completed path=%s", self._path)
        self._file = None
        self._path = None


def _part(path: Path) -> Path:
    return path.with_name(path.name + PART_SUFFIX)


def _fsync_dir(directory: Path) -> None:
    # The rename itself must survive a power cut, not only the file's bytes.
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
