"""Record a WebSocket stream as it arrives, without ever making its reader wait.

:class:`FeedRecorder` is what the socket hands every data message (its raw text and
receive time) and every connection change; it turns a lost-then-restored connection
into a gap marker line::

    <to_ns> {"channel":"makerdGap","data":{"from_ns":<ns>,"to_ns":<ns>,"reason":"<why>"}}

``from_ns`` is the receive time of the last message before the loss (of the connection
itself when none came on it), ``to_ns`` when the new connection was subscribed
again, ``reason`` the disconnection's (``closed_ok``, ``closed_error``, ``timeout``,
``refused``, ``other``) or ``queue_full`` for lines this process dropped itself.

Lines go through a bounded queue to one writer thread (:class:`RecordingWriter`), which
compresses and writes them with :class:`HourlyFiles`. When the queue is full, a line is
dropped and counted (:attr:`RecordingWriter.dropped`), never waited for: the feed must
not slow down because a disk did (the queue is bounded in lines and in bytes). The
drops are then marked in the file as a ``queue_full`` gap in their place. The writer
flushes whenever it has emptied the queue, and at least every ``flush_every`` lines.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

from makerd.protocol.instrument import Instrument
from makerd.protocol.market import VenueConnectionChanged
from makerd.venues.hyperliquid.recording_files import HourlyFiles, file_label
from makerd.venues.hyperliquid.recording_rules import save_rules

log = logging.getLogger("makerd.recording")

GAP_CHANNEL: Final = "makerdGap"
QUEUE_FULL: Final = "queue_full"
DEFAULT_CAPACITY: Final = 10_000
"""Lines queued at most: at Hyperliquid's few book messages a second, minutes of a stalled disk."""
DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024
"""Bytes queued at most, whatever the lines' sizes (one message may be a megabyte)."""
_TICK_S: Final = 0.5


def gap_message(*, from_ns: int, to_ns: int, reason: str) -> str:
    """The gap marker's JSON text (compact, keys in this order)."""
    data = {"from_ns": from_ns, "to_ns": to_ns, "reason": reason}
    return json.dumps({"channel": GAP_CHANNEL, "data": data}, separators=(",", ":"))


class RecordingWriter:
    """A bounded queue of lines and the thread that writes them to :class:`HourlyFiles`."""

    def __init__(
        self,
        files: HourlyFiles,
        *,
        capacity: int = DEFAULT_CAPACITY,
        max_bytes: int = DEFAULT_MAX_BYTES,
        flush_every: int = 100,
    ) -> None:
        self.files = files
        self._queue: queue.Queue[tuple[int, str] | None] = queue.Queue(maxsize=capacity)
        self._capacity = capacity
        self._max_bytes = max_bytes
        self._queued_bytes = 0
        self._flush_every = flush_every
        self._thread = threading.Thread(target=self._serve, name="recorder", daemon=True)
        self._lock = threading.Lock()
        self._lost: tuple[int, int] | None = None
        """Receive times of the first and last line dropped since the last marker."""
        self.dropped = 0
        self.failed: BaseException | None = None
        """Why the writer thread stopped early (a full disk, say); the queue then fills."""

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def record(self, ts_ns: int, message: str) -> None:
        """Queue one line; from any thread; never blocks, never raises.

        After a run of drops, the line goes in behind their marker, or (when the two do not
        fit) is dropped too and the run grows: one gap, one marker, however long.
        """
        with self._lock:
            marker = ""
            if self._lost is not None:
                marker = gap_message(from_ns=self._lost[0], to_ns=self._lost[1], reason=QUEUE_FULL)
            lines = 2 if marker else 1
            if not self._fits(len(marker) + len(message), lines):
                self._drop(ts_ns)
                return
            if self._lost is not None:
                self._queue.put_nowait((self._lost[1], marker))
                self._lost = None
            self._queue.put_nowait((ts_ns, message))
            self._queued_bytes += len(marker) + len(message)

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """Write what is queued, finish the open file (its final name) and end the thread.

        Lines dropped since the last marker get theirs, so the file ends saying so.
        """
        if not self._thread.is_alive():
            return
        with self._lock:
            lost, self._lost = self._lost, None
            marker = (
                ""
                if lost is None
                else gap_message(from_ns=lost[0], to_ns=lost[1], reason=QUEUE_FULL)
            )
            self._queued_bytes += len(marker)
        try:
            if lost is not None:
                # Past the bounds if need be: it is the last line, and it says what is missing.
                self._queue.put((lost[1], marker), timeout=timeout_s)
            self._queue.put(None, timeout=timeout_s)
        except queue.Full:
            pass  # the writer is stuck (a hung disk): reported just below
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            # The open file stays .part, readable to its last flushed line.
            log.error("event=recording_stop_slow timeout_s=%.1f", timeout_s)

    def _fits(self, size: int, lines: int) -> bool:
        # Under _lock, and only the writer takes from the queue: what fits now still fits.
        if self._queued_bytes + size > self._max_bytes:
            return False
        return self._queue.qsize() + lines <= self._capacity

    def _drop(self, ts_ns: int) -> None:
        if self.dropped == 0:
            log.warning("event=recording_queue_full action=drop_and_mark_gap")
        self.dropped += 1
        first = ts_ns if self._lost is None else self._lost[0]
        self._lost = (first, ts_ns)

    def _serve(self) -> None:
        try:
            self._write_until_stopped()
            # Finishing the file writes too (the gzip trailer): a full disk can fail it.
            self.files.close()
        except (OSError, ValueError) as error:
            self.failed = error
            log.error("event=recording_failed error=%r", error)

    def _write_until_stopped(self) -> None:
        unflushed = 0
        while True:
            try:
                item = self._queue.get(timeout=_TICK_S)
            except queue.Empty:
                self.files.tick()
                continue
            if item is None:
                self.files.flush()
                return
            with self._lock:
                self._queued_bytes -= len(item[1])
            self.files.write(*item)
            unflushed += 1
            if unflushed >= self._flush_every or self._queue.empty():
                self.files.flush()
                self.files.tick()
                unflushed = 0


@runtime_checkable
class RecordingVenue(Protocol):
    """A venue that may record its market stream (``feed.record_dir``)."""

    @property
    def recorder(self) -> FeedRecorder | None: ...


def market_recorder(
    record_dir: Path | None, instruments: tuple[Instrument, ...]
) -> FeedRecorder | None:
    """A trading run's recorder of its market stream (``feed.record_dir``), or None.

    The instruments' rules go beside the files first (:mod:`recording_rules`), so that
    the recording can be replayed without guessing them.
    """
    if record_dir is None:
        return None
    save_rules(record_dir, instruments)
    files = HourlyFiles(out_dir=record_dir, label=file_label(tuple(i.coin for i in instruments)))
    return FeedRecorder(RecordingWriter(files))


class FeedRecorder:
    """What a socket tells about its stream, as recorded lines and gap markers."""

    def __init__(self, writer: RecordingWriter) -> None:
        self._writer = writer
        self._last_ns: int | None = None
        self._lost: tuple[int, str] | None = None

    @property
    def dropped(self) -> int:
        """Lines dropped because the writer fell behind (each run marked as a gap)."""
        return self._writer.dropped

    def start(self) -> None:
        self._writer.start()

    def stop(self) -> None:
        """After the socket has stopped: write the rest and finish the open file."""
        self._writer.stop()

    def on_message(self, raw: str, ts_local: int) -> None:
        """One data message exactly as received (already known to be JSON)."""
        self._last_ns = ts_local
        if "\n" in raw or "\r" in raw:
            # Only whitespace between JSON tokens can hold a raw line break (a string
            # cannot), so a space keeps the message's meaning and the file's lines.
            raw = raw.replace("\r", " ").replace("\n", " ")
        self._writer.record(ts_local, raw)

    def on_connection(self, change: VenueConnectionChanged) -> None:
        if not change.connected:
            if self._lost is None:
                since = self._last_ns if self._last_ns is not None else change.ts_local
                self._lost = (since, change.reason)
            return
        if self._lost is not None:
            since, reason = self._lost
            marker = gap_message(from_ns=since, to_ns=change.ts_local, reason=reason)
            self._writer.record(change.ts_local, marker)
        self._lost = None
        self._last_ns = change.ts_local
