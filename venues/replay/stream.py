"""Several recordings as one stream in local-time order, and how far through them it is.

A replay of several coins reads each file once for all of them; archive book files of
one hour (one file per coin) share that hour's trades file, which is read once.
"""

from __future__ import annotations

import heapq
import traceback
from collections.abc import Iterable, Iterator, MutableSequence, Sequence
from pathlib import Path
from typing import Protocol

from makerd.protocol.market import BookSnapshotReceived, TradePrinted
from makerd.venues.replay.archive import ArchiveBooks, ArchiveTrades, trades_beside
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.lines import CompressedLines, kind_of
from makerd.venues.replay.messages import Coins, ReplayEvent
from makerd.venues.replay.recorder_file import RecorderFile

NOT_YET = -1
"""No recording read yet (see :attr:`ReplayStream.reading`)."""


class Recording(Protocol):
    lines: CompressedLines

    def __iter__(self) -> Iterator[ReplayEvent]: ...


def open_recording(path: Path, *, coin: Coins) -> list[Recording]:
    """The readers for one file the user named (an archive book file brings its trades)."""
    if kind_of(path) == ".gz":
        return [RecorderFile(path, coin=coin)]
    if is_archive_books(path):
        trades = trades_beside(path)
        books: list[Recording] = [ArchiveBooks(path, coin=coin)]
        return books if trades is None else [*books, ArchiveTrades(trades, coin=coin)]
    raise RecordingError(
        path,
        0,
        "unknown format: expected a recorder file (.gz or .gz.part) or an archive "
        "l2Book/<COIN>.lz4",
    )


def is_archive_books(path: Path) -> bool:
    return path.suffix == ".lz4" and path.parent.name == "l2Book"


class ReplayStream:
    """Every event of ``coin`` (or coins) in ``paths``, merged by local time (each file is
    in order)."""

    def __init__(self, paths: Sequence[Path], *, coin: Coins) -> None:
        for path in paths:
            if path.is_dir():
                raise RecordingError(path, 0, "is a directory: give the files in it")
            if not path.is_file():
                raise RecordingError(path, 0, "no such file")
        readers = [reader for path in paths for reader in open_recording(path, coin=coin)]
        # Keyed by file: several coins' archive books bring the same hour's trades file.
        unique: dict[Path, Recording] = {}
        for reader in readers:
            unique.setdefault(reader.lines.path, reader)
        self.recordings = list(unique.values())
        self.books_without_trades = tuple(
            path for path in paths if is_archive_books(path) and trades_beside(path) is None
        )
        """Archive book files whose hour has no ``node_trades`` file: no trade is replayed
        with them, so only books crossing a price can fill (the run says so)."""
        self.input_bytes = sum(reader.lines.size for reader in self.recordings)
        """The files' compressed size: what there is to read."""
        self._total = self.input_bytes or 1
        self._named = tuple(paths)
        self._with_data: set[Path] = set()
        self._read_through: set[Path] = set()
        self.reading: MutableSequence[int] = [NOT_YET, 0]
        """Which recording (its index in :attr:`recordings`) is being read now, and the
        last line read whole in it. A reading process shares it with the replay (see
        :mod:`venues.replay.ahead`), so a reader that dies is named by the file it was in."""

    def reading_now(self) -> tuple[Path, int]:
        """The file being read (the first before any) and the last line read whole in it."""
        index, line = self.reading
        if index == NOT_YET:
            return self.recordings[0].lines.path, 0
        return self.recordings[index].lines.path, line

    @property
    def progress(self) -> float:
        """The fraction of the compressed input read so far, 0 to 1."""
        done = sum(reader.lines.bytes_read for reader in self.recordings)
        return min(1.0, done / self._total)

    @property
    def cut_short(self) -> list[Path]:
        """Unfinished recorder files whose stream ended mid-write (read up to there)."""
        return [reader.lines.path for reader in self.recordings if reader.lines.cut_short]

    @property
    def without_data(self) -> tuple[Path, ...]:
        """The files named that were read to their end without a book or a trade of the
        coins: another coin's recording, say. They add nothing, and the run says so."""
        return tuple(
            path
            for path in self._named
            if path in self._read_through and path not in self._with_data
        )

    def __iter__(self) -> Iterator[ReplayEvent]:
        sources: list[Iterable[ReplayEvent]] = [
            self._noting_data(index, one) for index, one in enumerate(self.recordings)
        ]
        if len(sources) == 1:
            return iter(sources[0])
        return heapq.merge(*sources, key=_local_time)

    def _noting_data(self, index: int, recording: Recording) -> Iterator[ReplayEvent]:
        """``recording``'s events, noting whether it held any of the coins' market data,
        and in :attr:`reading` that it is the one read, before every read from it.

        A reader failing on anything but the file (a bug of ours) ends the stream as an
        unreadable file does, naming this file: the replay then stops at that point and
        closes its session, instead of leaving a traceback and a session still "open".
        """
        lines = recording.lines
        path, reading = lines.path, self.reading
        events = iter(recording)
        try:
            reading[0] = index
            unseen = True  # no book or trade of the coins yet
            for event in events:
                if unseen and (type(event) is BookSnapshotReceived or type(event) is TradePrinted):
                    self._with_data.add(path)
                    unseen = False
                reading[1] = lines.line
                yield event
                # The merge reads from this file next: a reader that dies now dies in it.
                reading[0] = index
        except RecordingError:
            raise
        except Exception as error:
            failure = traceback.format_exception_only(error)[-1].strip()
            raise RecordingError(path, 0, f"the reader failed: {failure}") from error
        self._read_through.add(path)


def _local_time(event: ReplayEvent) -> int:
    return event.ts_local
