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
from typing import BinaryIO

import lz4.frame

from venues.hyperliquid.parse import LevelCache
from venues.replay.errors import RecordingError


class CompressedLines:
    """The lines of a gzip, LZ4-frame or plain file, numbered from 1, without newlines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._raw: BinaryIO | None = None

    @property
    def bytes_read(self) -> int:
        """Compressed bytes consumed so far."""
        if self._raw is None:
            return 0
        return self.size if self._raw.closed else self._raw.tell()

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def __iter__(self) -> Iterator[tuple[int, str]]:
        number = 0
        try:
            with self.path.open("rb") as raw:
                self._raw = raw
                with io.TextIOWrapper(_decompressor(self.path, raw), encoding="utf-8") as text:
                    for number, line in enumerate(text, start=1):
                        yield number, line.rstrip("\n")
        except OSError as error:
            raise RecordingError(self.path, number + 1, _describe(error)) from None
        except (EOFError, zlib.error, RuntimeError) as error:
            # EOFError: a gzip stream cut short; RuntimeError: lz4's corrupt-frame error.
            raise RecordingError(self.path, number + 1, f"corrupt or truncated: {error}") from None
        except UnicodeDecodeError:
            raise RecordingError(self.path, number + 1, "not UTF-8 text") from None


def _decompressor(path: Path, raw: BinaryIO) -> BinaryIO:
    if path.suffix == ".gz":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if path.suffix == ".lz4":
        return lz4.frame.LZ4FrameFile(raw, mode="rb")  # type: ignore[no-any-return]
    return raw


def _describe(error: OSError) -> str:
    if isinstance(error, gzip.BadGzipFile):
        return f"not a gzip file: {error}"
    if error.strerror:
        return f"cannot read: {error.strerror}"
    return f"cannot read: {error}"


class CoinFile:
    """A file of recorded lines read for one coin (the readers' common part)."""

    def __init__(self, path: Path, *, coin: str) -> None:
        self.lines = CompressedLines(path)
        self.coin = coin
        self.levels: LevelCache = {}
        """Book levels parsed so far (most repeat from one snapshot to the next)."""
