"""The nonces one signer puts on its actions, kept above every nonce it used before.

The exchange keeps each signer's 100 highest nonces and refuses one below the smallest of
them ("Invalid nonce: nonce too low A < B"). Nonces are unix milliseconds, so a process
started after the host's clock stepped back would sign below its own last run's nonces,
and every action (the orphans' cancel, the dead-man switch) would be refused until the
clock caught up: for as long as the step. Two things keep that from happening:

- a **reservation** in the state directory: before a nonce passes the reserved one, the
  reservation moves :data:`RESERVE_AHEAD_MS` beyond it, so every nonce used lies at or
  below what is written there, and the next run starts above it;
- a **refusal's floor**: the exchange names the smallest nonce it still holds, and the
  next nonce goes :data:`FLOOR_MARGIN_MS` above it, past the nonces a busy signer took
  just above that floor; a duplicate, if one is met there, moves it past that one. This
  covers a state directory that was wiped or moved: one refused action, not minutes.

A nonce ahead of the clock is harmless: the exchange takes any nonce up to a day ahead of
its own time. Quick restarts move the start at most :data:`RESERVE_AHEAD_MS` each. A
reservation more than that day ahead of the clock is ignored: the exchange refused those
nonces ("nonce too high"), so it holds none of them, and starting above them would have
every action refused the same way until the clock caught up.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Final

log = logging.getLogger("makerd.venue.nonces")
_NS_PER_MS: Final = 1_000_000
RESERVE_AHEAD_MS: Final = 10_000
FUTURE_WINDOW_MS: Final = 24 * 3600 * 1000
"""How far ahead of its own clock the exchange takes a nonce."""
"""How far a reservation reaches past the nonce that moved it: one file write per ten
seconds of actions at most."""
FLOOR_MARGIN_MS: Final = 10_000
_TOO_LOW: Final = re.compile(r"Invalid nonce: nonce too low \d+ < (\d+)")
_DUPLICATE: Final = re.compile(r"Invalid nonce: duplicate nonce (\d+)")
_FILE_MODE: Final = 0o600


def refused_floor(message: str) -> int | None:
    """The nonce to sign above after the exchange's nonce refusal ``message``, if it is one."""
    too_low = _TOO_LOW.search(message)
    if too_low is not None:
        return int(too_low.group(1)) + FLOOR_MARGIN_MS
    duplicate = _DUPLICATE.search(message)
    return int(duplicate.group(1)) if duplicate is not None else None


class NonceReservation:
    """The highest nonce a signer may have used, in one small file of the state directory.

    Written without fsync, on the order path: a crash of the process keeps it (the page
    cache survives); only a crash of the machine could lose the last write, and then the
    first refusal's floor takes over.
    """

    def __init__(self, state_dir: Path, signer: str) -> None:
        self.path = state_dir / f"hl-nonces-{signer.lower()}"
        self.reserved = self._read()

    def extend(self, to: int) -> None:
        """Reserve every nonce up to ``to`` before any of them is used."""
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
            with os.fdopen(descriptor, "w") as stream:
                stream.write(f"{to}\n")
            os.replace(temporary, self.path)
        except OSError as error:
            # Still signed: without the file only a later run after a step back of the
            # clock meets one refusal, whose floor it then learns.
            log.error("event=nonce_reservation_not_written path=%s error=%r", self.path, error)
        self.reserved = to

    def _read(self) -> int:
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError) as error:
            log.warning("event=nonce_reservation_unreadable path=%s error=%r", self.path, error)
            return 0
        if not text.isdigit():
            log.warning("event=nonce_reservation_unreadable path=%s text=%r", self.path, text[:40])
            return 0
        return int(text)


class NonceSource:
    """Millisecond timestamps, strictly increasing, above every nonce known to be taken."""

    def __init__(
        self, now_ns: Callable[[], int], reservation: NonceReservation | None = None
    ) -> None:
        self._now_ns = now_ns
        self._reservation = reservation
        self._last = 0
        if reservation is not None:
            ahead_ms = reservation.reserved - now_ns() // _NS_PER_MS
            if ahead_ms > FUTURE_WINDOW_MS:
                log.warning("event=nonce_reservation_ignored ahead_ms=%d", ahead_ms)
                reservation.reserved = 0  # the first nonce writes a new one
            self._last = reservation.reserved

    def next(self) -> int:
        nonce = max(self._now_ns() // _NS_PER_MS, self._last + 1)
        reservation = self._reservation
        if reservation is not None and nonce > reservation.reserved:
            reservation.extend(nonce + RESERVE_AHEAD_MS)
        self._last = nonce
        return nonce

    def refused_below(self, floor: int) -> None:
        """The exchange refuses ``floor`` and below: every later nonce goes above it."""
        if floor > self._last:
            log.warning(
                "event=nonce_floor_learned floor=%d behind_ms=%d",
                floor,
                floor - self._last,
            )
            self._last = floor
