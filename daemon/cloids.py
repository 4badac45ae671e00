"""Client order ids: unique per process run, never reused after an actor restart."""

from __future__ import annotations

import itertools
import re
import secrets
import threading

_LANES = 256
_CLOID = re.compile(r"0x([0-9a-f]{16})([0-9a-f]{2})[0-9a-f]{14}")


class CloidFactory:
    """``0x`` + 32 hex digits: a 64-bit run prefix, then a 64-bit counter.

    The factory outlives actor incarnations, so a restarted order_manager keeps counting.
    With several coins, each coin counts in its own ``lane`` (the counter's top byte), so
    an id alone says which coin's order manager it belongs to.
    """

    def __init__(self, run_prefix: int | None = None, *, lane: int = 0) -> None:
        if not 0 <= lane < _LANES:
            raise ValueError(f"lane must be in [0, {_LANES}), got {lane}")
        self._prefix = secrets.randbits(64) if run_prefix is None else run_prefix
        self._lane = lane
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            n = next(self._counter)
        return f"0x{self._prefix:016x}{self._lane:02x}{n:014x}"


class CoinCloids:
    """One :class:`CloidFactory` per coin, sharing the run prefix, and the way back."""

    def __init__(self, coins: tuple[str, ...], run_prefix: int | None = None) -> None:
        if len(coins) > _LANES:
            raise ValueError(f"at most {_LANES} coins have their own client id lane")
        prefix = secrets.randbits(64) if run_prefix is None else run_prefix
        self._prefix = f"{prefix:016x}"
        self._coins = coins
        self.factories = {coin: CloidFactory(prefix, lane=lane) for lane, coin in enumerate(coins)}

    def coin_of(self, cloid: str) -> str | None:
        """The coin an id of this run was minted for; None for anyone else's id."""
        match = _CLOID.fullmatch(cloid)
        if match is None or match.group(1) != self._prefix:
            return None
        lane = int(match.group(2), 16)
        return self._coins[lane] if lane < len(self._coins) else None


def coin_of_lane(coins: tuple[str, ...], cloid: str) -> str | None:
    """The coin whose lane an id of any run counts in (None: not a makerd id).

    A backtest's venue is built before its session, whose id is the run prefix: every id
    it sees is that run's own, so the lane alone says whose it is.
    """
    match = _CLOID.fullmatch(cloid)
    if match is None:
        return None
    lane = int(match.group(2), 16)
    return coins[lane] if lane < len(coins) else None
