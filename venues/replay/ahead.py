"""A recording read ahead of the replay, by a second process.

Decompressing, splitting and parsing a recording is about a quarter of a backtest's CPU,
and none of it depends on the replay: a child process does it on another core while the
state machines run here. What crosses is compact: a batch of events in one ``marshal``
message, each book as its two sides' level numbers, each level's strings sent once (the
child's :class:`LevelCache` hands out the same level for the same strings, so a level is
numbered once and most books are a few dozen small ints). The levels, trades and books
built here from those strings are equal, field for field and digit for digit, to what
the reader in this process would have made; anything rarer (a dropped message, a gap)
crosses pickled.

The child's errors end the replay here, at the point of the stream where they happened:
a :class:`RecordingError` crosses as one (file and line), anything else as a
:class:`RecordingError` saying what the reader died of, and a child that vanishes
(killed, out of memory) is seen as the end of its pipe, never waited on. Those two name
the file the child was reading when it failed, and the last line it had read whole
there: the stream notes both in shared memory as it goes (it used to name the first file
given, whichever the child was in).
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Literal

from makerd.protocol.market import BookLevel, BookSnapshotReceived, TradePrinted
from makerd.protocol.side import Side
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.idle_cores import idle_cores
from makerd.venues.replay.messages import ReplayEvent
from makerd.venues.replay.stream import ReplayStream

BATCH = 2048
"""Events per message: a few hundred kilobytes at most, sent a few hundred times an hour."""
LEVEL_LIMIT = 8192
"""Level numbers handed out before both sides forget them: memory stays bounded (a few MB
at most), and the ~100 new levels a second of a busy book make it a reset a minute or so."""

IDLE_CORES = 1.5
"""Idle cores ``auto`` wants before it reads in a second process: one for the replay, most
of one for the reader (it runs at a third to half of the replay's CPU)."""
SMALL_INPUT_BYTES = 1_000_000
"""Compressed input below which ``auto`` reads inline without sampling the cores: even on
an idle core, reading ahead saves less than the sample costs (0.2 s). Measured with
``bench/bench_reader_crossover.py`` (see docs/backtest.md)."""

Reader = Literal["auto", "process", "inline"]
"""Where a replay reads its files: a second process, its own, or the second when a core is
idle (``auto``)."""

_EVENTS, _END, _ERROR, _FAILED = range(4)
_BOOK, _TRADE, _OTHER = range(3)


class ReadAhead:
    """The events of ``stream``, read by a child process: iterate once."""

    def __init__(
        self, stream: ReplayStream, *, batch: int = BATCH, level_limit: int = LEVEL_LIMIT
    ) -> None:
        self._stream = stream
        # Written by the child as it reads, read here once it has failed: two integers in
        # shared memory, no message, so they hold even for a child killed outright.
        stream.reading = multiprocessing.RawArray("q", list(stream.reading))
        self.books_without_trades = stream.books_without_trades
        """As the stream's: known before reading (see :class:`ReplayStream`)."""
        self._progress = 0.0
        self._cut_short: list[Path] = []
        self._without_data: tuple[Path, ...] = ()
        receiver, sender = multiprocessing.Pipe(duplex=False)
        self._receiver = receiver
        # Fork is cheap and needs nothing imported again, but is only safe with no other
        # thread (one could hold a lock the child then waits on forever).
        context = multiprocessing.get_context("fork" if _can_fork() else "spawn")
        self._process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(stream, sender, batch, level_limit), daemon=True
        )
        # A forked child would write out a copy of anything still buffered here.
        sys.stdout.flush()
        sys.stderr.flush()
        self._process.start()
        # Only the child may hold the sending end: its death is then this end's EOF.
        sender.close()

    @property
    def progress(self) -> float:
        """The fraction of the compressed input the child has read, 0 to 1."""
        return self._progress

    @property
    def cut_short(self) -> list[Path]:
        """Unfinished recorder files whose stream ended mid-write (known at the end)."""
        return self._cut_short

    @property
    def without_data(self) -> tuple[Path, ...]:
        """As the stream's: files read through without the coins' data (known at the end)."""
        return self._without_data

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def close(self) -> None:
        """Stop the child if it still runs (a replay that ended early) and wait for it."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receiver.close()

    def __iter__(self) -> Iterator[ReplayEvent]:
        levels: list[BookLevel] = []
        level = levels.__getitem__
        try:
            while True:
                kind, *body = marshal.loads(self._next_message())
                if kind != _EVENTS:
                    self._end(kind, body)
                    return
                self._progress, reset, new_levels, events = body
                if reset:
                    levels.clear()
                levels.extend(
                    [
                        BookLevel(price=Decimal(px), size=Decimal(sz), orders=n)
                        for px, sz, n in new_levels
                    ]
                )
                for event in events:
                    tag = event[0]
                    if tag == _BOOK:
                        _, coin, ts_exchange, ts_local, bids, asks = event
                        yield BookSnapshotReceived(
                            coin=coin,
                            bids=tuple(map(level, bids)),
                            asks=tuple(map(level, asks)),
                            ts_exchange=ts_exchange,
                            ts_local=ts_local,
                        )
                    elif tag == _TRADE:
                        _, coin, side, px, sz, trade_id, ts_exchange, ts_local = event
                        yield TradePrinted(
                            coin=coin,
                            side=Side(side),
                            price=Decimal(px),
                            size=Decimal(sz),
                            trade_id=trade_id,
                            ts_exchange=ts_exchange,
                            ts_local=ts_local,
                        )
                    else:
                        yield pickle.loads(event[1])
        finally:
            self.close()

    def _next_message(self) -> bytes:
        try:
            return self._receiver.recv_bytes()
        except EOFError:
            self._process.join()
            ended = f"the reading process ended before the end ({_ended(self._process.exitcode)})"
            raise self._failure(ended) from None

    def _end(self, kind: int, body: list[object]) -> None:
        if kind == _END:
            self._progress = 1.0
            cut_short, without_data = body
            self._cut_short = [Path(str(path)) for path in cut_short]  # type: ignore[attr-defined]
            self._without_data = tuple(Path(str(path)) for path in without_data)  # type: ignore[attr-defined]
            return
        if kind == _ERROR:
            path, line, problem, without_data = body
            # The files read through before the error are known, and said, as inline.
            self._without_data = tuple(Path(str(path)) for path in without_data)  # type: ignore[attr-defined]
            raise RecordingError(Path(str(path)), int(str(line)), str(problem))
        raise self._failure(f"the reading process failed: {body[0]}")

    def _failure(self, what: str) -> RecordingError:
        """``what`` ended the child, named by the file it was reading (see the module)."""
        path, line = self._stream.reading_now()
        where = f", while reading past its line {line}" if line else ", before its first line"
        return RecordingError(path, 0, what + where)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReaderChoice:
    """Where a replay reads its files, and why: the run says both."""

    ahead: bool
    """True: a second process reads ahead (:class:`ReadAhead`); False: the replay's own."""
    why: str

    def statement(self) -> str:
        where = "in a second process, ahead of the replay" if self.ahead else "inline"
        return f"read {where} ({self.why})"


def choose_reader(
    reader: Reader, *, input_bytes: int, idle: Callable[[], float] = idle_cores
) -> ReaderChoice:
    """Where to read ``input_bytes`` of compressed recordings: ``auto`` reads ahead when
    a core is idle for it, and the input is large enough to pay for the look.

    ``idle``: measures the idle cores this process may use (a 0.2 s sample,
    :func:`venues.replay.idle_cores.idle_cores`); called only when the answer depends on
    it. The reader pays only on an idle core: on a busy one it takes the replay's share
    of the machine and adds the crossing's cost.
    """
    if reader != "auto":
        return ReaderChoice(ahead=reader == "process", why=f"--reader {reader}")
    if input_bytes < SMALL_INPUT_BYTES:
        return ReaderChoice(
            ahead=False,
            why=f"auto: {input_bytes / 1e6:.2f} MB of input, under the "
            f"{SMALL_INPUT_BYTES / 1e6:.0f} MB a second process needs to pay for itself; "
            "cores not sampled",
        )
    cores = idle()
    # The replay itself takes one core; the reader wants most of another.
    return ReaderChoice(
        ahead=cores >= IDLE_CORES,
        why=f"auto: {cores:.1f} cores idle, {IDLE_CORES} wanted",
    )


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _ended(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _serve(stream: ReplayStream, sender: Connection, batch: int, level_limit: int) -> None:
    """The child: read ``stream`` and send it in batches, then how it ended."""
    # Ctrl-C reaches the whole process group: the parent stops this child itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _send_events(stream, sender, batch, level_limit)
        ended = (
            _END,
            [str(path) for path in stream.cut_short],
            list(map(str, stream.without_data)),
        )
        sender.send_bytes(marshal.dumps(ended))
    except RecordingError as error:
        without_data = list(map(str, stream.without_data))
        failed = (_ERROR, str(error.path), error.line, error.problem, without_data)
        sender.send_bytes(marshal.dumps(failed))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent stopped reading: nobody to tell
    except Exception as error:  # the parent must learn of any failure
        last = traceback.format_exception_only(error)[-1].strip()
        sender.send_bytes(marshal.dumps((_FAILED, last)))
    finally:
        sender.close()
        os._exit(0)  # nothing of the parent's (atexit, buffers) is this child's to run


def _send_events(stream: ReplayStream, sender: Connection, batch: int, limit: int) -> None:
    # Levels by identity: the reader's cache returns the same object for the same strings,
    # and equal levels of different strings ("1.0", "1.00") must not share a number. The
    # levels are kept alive here, so no number outlives its level's id.
    numbers: dict[int, int] = {}
    alive: list[BookLevel] = []
    new_levels: list[tuple[str, str, int]] = []
    events: list[tuple[object, ...]] = []
    reset = False

    def number(book_level: BookLevel) -> int:
        found = numbers.get(id(book_level))
        if found is None:
            found = numbers[id(book_level)] = len(alive)
            alive.append(book_level)
            new_levels.append((str(book_level.price), str(book_level.size), book_level.orders))
        return found

    get = numbers.get
    try:
        for event in stream:
            if type(event) is BookSnapshotReceived:
                bids = tuple([get(id(x)) or number(x) for x in event.bids])
                asks = tuple([get(id(x)) or number(x) for x in event.asks])
                events.append((_BOOK, event.coin, event.ts_exchange, event.ts_local, bids, asks))
            elif type(event) is TradePrinted:
                events.append(
                    (
                        _TRADE,
                        event.coin,
                        event.side.value,
                        str(event.price),
                        str(event.size),
                        event.trade_id,
                        event.ts_exchange,
                        event.ts_local,
                    )
                )
            else:
                events.append((_OTHER, pickle.dumps(event)))
            if len(events) >= batch:
                message = (_EVENTS, stream.progress, reset, new_levels, events)
                sender.send_bytes(marshal.dumps(message))
                new_levels, events = [], []
                # Between batches only: a batch's numbers all refer to one table.
                reset = len(alive) > limit
                if reset:
                    numbers.clear()
                    alive.clear()
    finally:
        # What was read before an error reaches the replay before the error does.
        sender.send_bytes(marshal.dumps((_EVENTS, stream.progress, reset, new_levels, events)))
