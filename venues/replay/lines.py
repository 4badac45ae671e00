"""Compressed text files read line by line, with their errors named by file and line.

Decompression runs over a raw file object so :attr:`CompressedLines.bytes_read` can tell
a progress indicator how far through the (compressed) file it is. Nothing is read whole:
memory stays flat however long the file.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final

import lz4.frame

from makerd.venues.hyperliquid.parse import LevelCache
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.messages import Coins

PART_SUFFIX = ".part"
NS_PER_HOUR: Final = 3600 * 1_000_000_000
EARLIEST_NS: Final = 1_577_836_800 * 1_000_000_000
"""2020-01-01 UTC: no Hyperliquid data is older."""
LATEST_NS: Final = 4_102_444_800 * 1_000_000_000
"""2100-01-01 UTC."""
MAX_FILE_SPAN_NS: Final = 25 * NS_PER_HOUR
"""How far a line's local time may be from its file's first: a day, and an hour of slack."""


class CompressedLines:
    """The lines of a gzip, LZ4-frame or plain file, numbered from 1, without newlines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._raw: BinaryIO | None = None
        self.unfinished = path.suffix == PART_SUFFIX
        """A recorder's open hour (``.part``): its compressed stream may end mid-write."""
        self.cut_short = False
        """True once an unfinished file's stream ended mid-write (its last lines are lost)."""
        self._size: int | None = None
        self.line = 0
        """The number of the last line read whole (0: none yet)."""

    @property
    def bytes_read(self) -> int:
        """Compressed bytes consumed so far."""
        if self._raw is None:
            return 0
        return self.size if self._raw.closed else self._raw.tell()

    @property
    def size(self) -> int:
        """The file's size when first asked (a replay asks before reading it)."""
        # Kept: a recorder renames its hour's .part when the hour closes, and a replay
        # still asking the file read through for its progress then failed to find it.
        if self._size is None:
            self._size = self.path.stat().st_size
        return self._size

    def __iter__(self) -> Iterator[tuple[int, str]]:
        number = 0
        try:
            with self.path.open("rb") as raw:
                self._raw = raw
                with io.TextIOWrapper(_decompressor(self.path, raw), encoding="utf-8") as text:
                    for number, line in enumerate(text, start=1):
                        self.line = number
                        yield number, line.rstrip("\n")
        except OSError as error:
            raise RecordingError(self.path, number + 1, _describe(error)) from None
        except EOFError as error:
            # A stream cut short: expected of a recorder's unfinished file, damage otherwise.
            if not self.unfinished:
                raise RecordingError(self.path, number + 1, f"truncated: {error}") from None
            self.cut_short = True
        except (zlib.error, RuntimeError) as error:
            # RuntimeError: lz4's corrupt-frame error.
            raise RecordingError(self.path, number + 1, f"corrupt: {error}") from None
        except UnicodeDecodeError:
            raise RecordingError(self.path, number + 1, "not UTF-8 text") from None


def _decompressor(path: Path, raw: BinaryIO) -> BinaryIO:
    if kind_of(path) == ".gz":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if kind_of(path) == ".lz4":
        return lz4.frame.LZ4FrameFile(raw, mode="rb")  # type: ignore[no-any-return]
    return raw


def kind_of(path: Path) -> str:
    """The compression suffix, looking through a recorder's ``.part``: ``a.gz.part`` → ``.gz``."""
    return Path(path.stem).suffix if path.suffix == PART_SUFFIX else path.suffix


def _describe(error: OSError) -> str:
    if isinstance(error, gzip.BadGzipFile):
        return f"not a gzip file: {error}"
    if error.strerror:
        return f"cannot read: {error.strerror}"
    return f"cannot read: {error}"


class CoinFile:
    """A file of recorded lines read for one coin, or several (the readers' common part)."""

    def __init__(self, path: Path, *, coin: Coins) -> None:
        self.lines = CompressedLines(path)
        self.coin = coin
        self.levels = LevelCache()
        """Book levels parsed so far (most repeat from one snapshot to the next)."""
        self._first_ns: int | None = None

    def local_time(self, ts_ns: int, line: int) -> int:
        """``ts_ns`` if it can be a local time of this file's; else the error naming the line.

        A replay steps its clock, and the actors' timers, through every nanosecond between
        two lines: one damaged digit of a stamp would have it tick for centuries, and a
        stamp of a clock that jumped would lengthen the sample. Files hold an hour (a day
        for hftbacktest's collector), so a line more than :data:`MAX_FILE_SPAN_NS` from the
        file's first is refused, as is a first line outside 2020-2100.
        """
        first = self._first_ns
        if first is None:
            if not EARLIEST_NS <= ts_ns < LATEST_NS:
                raise RecordingError(
                    self.lines.path,
                    line,
                    f"local time {ts_ns} is not a time in ns from 2020 to 2100",
                )
            self._first_ns = ts_ns
        elif abs(ts_ns - first) > MAX_FILE_SPAN_NS:
            raise RecordingError(
                self.lines.path,
                line,
                f"local time {ts_ns} is {(ts_ns - first) / NS_PER_HOUR:+.1f} h from the file's "
                f"first line ({first}): a clock that jumped, or a damaged line "
                f"(a file spans at most {MAX_FILE_SPAN_NS // NS_PER_HOUR} h)",
            )
        return ts_ns
