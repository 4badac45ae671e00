"""The kill-switch latch: a file that keeps a tripped bot from trading after a restart.

The file is written atomically (temporary file, fsync, rename, fsync of the directory),
so a crash leaves either no latch or a complete one. Reading fails safe: a latch file
that exists but cannot be understood counts as tripped, because resuming trading on a
file we cannot read is the one outcome that must never happen. Only an operator's
:meth:`KillSwitchLatch.clear` removes it.

A full disk cannot take the latch's few bytes, and under launchd (which relaunches every
non-zero exit) a missing latch means the next start trades. So ``makerd run`` reserves
the latch at start (:meth:`KillSwitchLatch.reserve`: an empty file, which needs no data
block), and a trip whose write fails links that file to the latch's name (a directory
entry, no data block either). An empty latch reads as tripped, its reason
:data:`FULL_DISK_LATCH_REASON`: the trip's own reason is only in makerd's log.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

LATCH_FILE_NAME = "kill_switch.json"
RESERVE_FILE_NAME = "kill_switch.reserve"
"""The empty file a trip on a full disk turns into the latch; never read as a latch."""
CLEAR_LOCK_FILE_NAME = "kill_switch.lock"
"""Held (``flock``) by the one clear under way, so that two never both record theirs."""
CLAIM_FILE_NAME = "kill_switch.clearing"
"""The latch a clear has taken out of the way (renamed) and is about to remove; read as a
latch itself, so a clear that dies between the rename and the removal leaves it latched."""
CORRUPT_LATCH_REASON = "corrupt_latch"
FULL_DISK_LATCH_REASON = "latched_on_full_disk"
FULL_DISK_LATCH_DETAIL = (
    "the latch file is empty: the kill switch tripped when the disk was full, so its reason "
    "could not be written (makerd's log from that time says why; or the file was emptied "
    "since)"
)

_FILE_MODE = 0o600
_DIR_MODE = 0o700

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class LatchState:
    """Why and when the kill switch tripped."""

    reason: str
    detail: str
    tripped_at_ns: int


class KillSwitchLatch:
    """The persisted kill switch in ``state_dir``; safe to share between threads."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / LATCH_FILE_NAME

    def reserve(self) -> None:
        """Make sure a later :meth:`trip` can latch even when the disk is full by then."""
        self.state_dir.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        # Truncated: only ever empty, so a latch made of it reads as made on a full disk.
        descriptor = os.open(self._reserve, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
        os.close(descriptor)
        _fsync_directory(self.state_dir)

    def trip(self, *, reason: str, detail: str, ts_ns: int) -> None:
        """Latch the kill switch; durable once this returns. Tripping again overwrites.

        When the latch cannot be written, the reserved empty file becomes the latch; only
        when that fails too does the write's error reach the caller (nothing is latched).
        """
        try:
            self._write(reason=reason, detail=detail, ts_ns=ts_ns)
        except OSError as error:
            not_linked = self._link_reserve(ts_ns)
            if not_linked is None:
                log.error(
                    "event=kill_switch_latched_on_full_disk reason=%s error=%r latch=%s "
                    "note='latched without its reason: this line is the only record of it'",
                    reason,
                    error,
                    self.path,
                )
            elif isinstance(not_linked, FileExistsError):
                log.error(
                    "event=kill_switch_reason_not_written reason=%s error=%r latch=%s "
                    "note='the latch already there stays'",
                    reason,
                    error,
                    self.path,
                )
            else:
                raise

    def _write(self, *, reason: str, detail: str, ts_ns: int) -> None:
        payload = {"reason": reason, "detail": detail, "tripped_at_ns": ts_ns}
        data = (json.dumps(payload, sort_keys=True) + "\n").encode("utf-8")
        self.state_dir.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        # A per-thread temporary name: two trips racing must not write one file together.
        temporary = self.state_dir / f".{LATCH_FILE_NAME}.{os.getpid()}.{threading.get_ident()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        _fsync_directory(self.state_dir)

    def _link_reserve(self, ts_ns: int) -> OSError | None:
        """Make the reserved empty file the latch; why not, if it could not."""
        # The trip's time, for `status`: an inode update, which a full disk still allows.
        with contextlib.suppress(OSError):
            os.utime(self._reserve, ns=(ts_ns, ts_ns))
        try:
            # A link, not a rename: it never replaces a latch an earlier trip wrote in full.
            os.link(self._reserve, self.path)
        except OSError as error:
            return error
        with contextlib.suppress(OSError):
            self._reserve.unlink()  # spent; the next start reserves another
        with contextlib.suppress(OSError):
            # Without it only a crash of the machine could lose the link; the run stops anyway.
            _fsync_directory(self.state_dir)
        return None

    @property
    def _reserve(self) -> Path:
        return self.state_dir / RESERVE_FILE_NAME

    @property
    def _claim(self) -> Path:
        return self.state_dir / CLAIM_FILE_NAME

    def read(self) -> LatchState | None:
        """The latched state, None when armed; an unreadable latch reads as tripped."""
        state = _read_latch(self.path)
        return state if state is not None else _read_latch(self._claim)

    def clear(self, recorded: LatchState | None = None) -> LatchState | None:
        """Remove the latch (an operator's decision); returns what was cleared, if anything.

        ``recorded``: the state the operator's clear was journaled for. The latch is first
        renamed out of the way (a trip landing from then on writes a latch of its own),
        then compared: one that says something else (a trip landed between the record and
        the rename) is put back and :class:`LatchChangedError` raised, so a trip is never
        cleared by a record written for another.
        """
        claim = self._claim
        if not claim.exists():
            try:
                os.rename(self.path, claim)
            except FileNotFoundError:
                return None
        state = _read_latch(claim)
        if recorded is not None and state != recorded:
            with contextlib.suppress(FileExistsError):  # a newer trip's latch stands
                os.link(claim, self.path)
            claim.unlink()
            _fsync_directory(self.state_dir)
            raise LatchChangedError(state)
        claim.unlink()
        _fsync_directory(self.state_dir)
        return state

    @contextlib.contextmanager
    def one_clear_at_a_time(self) -> Iterator[None]:
        """Hold while reading, recording and removing the latch: a second clear waits,
        then reads no latch. The kernel drops the lock however its holder dies."""
        descriptor = os.open(
            self.state_dir / CLEAR_LOCK_FILE_NAME, os.O_RDWR | os.O_CREAT, _FILE_MODE
        )
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    @property
    def is_tripped(self) -> bool:
        return self.read() is not None


class LatchChangedError(Exception):
    """The latch changed between the clear's record and its removal; it stays."""

    def __init__(self, now: LatchState | None) -> None:
        super().__init__("the kill-switch latch changed while it was being cleared")
        self.now = now


def _read_latch(path: Path) -> LatchState | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        return _corrupt(path, f"cannot read latch file: {error.strerror}")
    if not raw:
        return _latched_on_full_disk(path)
    try:
        payload = json.loads(raw.decode("utf-8"))
        return LatchState(
            reason=_field(payload, "reason", str),
            detail=_field(payload, "detail", str),
            tripped_at_ns=_timestamp(_field(payload, "tripped_at_ns", int)),
        )
    except (UnicodeDecodeError, json.JSONDecodeError, _BadLatchError) as error:
        return _corrupt(path, f"unreadable latch file: {error}")


class _BadLatchError(ValueError):
    """The latch file is JSON but not the shape :meth:`KillSwitchLatch.trip` writes."""


def _field(payload: object, name: str, kind: type[T]) -> T:
    if not isinstance(payload, dict):
        raise _BadLatchError("not a JSON object")
    value = payload.get(name)
    # bool is an int subclass; `true` is not a timestamp.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _BadLatchError(f"field {name!r} missing or not {kind.__name__}")
    return value


def _timestamp(ts_ns: int) -> int:
    # trip() writes a wall-clock time in ns, which fits in 63 bits until 2262; anything
    # else (another unit, another writer) cannot be shown as a date, so it is not ours.
    if not 0 <= ts_ns < 1 << 63:
        raise _BadLatchError(f"field 'tripped_at_ns' out of range: {ts_ns}")
    return ts_ns


def _corrupt(path: Path, detail: str) -> LatchState:
    log.error("kill-switch latch %s is unreadable, treating it as tripped: %s", path, detail)
    return LatchState(reason=CORRUPT_LATCH_REASON, detail=detail, tripped_at_ns=_modified_ns(path))


def _latched_on_full_disk(path: Path) -> LatchState:
    log.error("kill-switch latch %s is empty, treating it as tripped", path)
    return LatchState(
        reason=FULL_DISK_LATCH_REASON,
        detail=FULL_DISK_LATCH_DETAIL,
        tripped_at_ns=_modified_ns(path),
    )


def _modified_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _fsync_directory(directory: Path) -> None:
    # The rename or unlink is durable only once the directory entry itself is on disk.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
