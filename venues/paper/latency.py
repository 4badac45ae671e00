"""How long the paper venue takes to act on a command and to answer it.

Either the configured constants (``paper.order_entry_latency_ms`` and
``paper.ack_latency_ms``), or a draw from acknowledgement latencies a live or paper
session measured (send → the venue's answer, per kind of action). A measured latency is a
round trip; it cannot tell the way out from the way back, so a draw is split in halves:
the command takes effect after the first, its answer arrives after the second. What the
market causes (a fill as a book moves through our price) reaches makerd after half the
measured median. Draws come from a seeded generator, so a backtest replayed with the same
files, config and measurements fills identically.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from makerd.protocol.order_actions import ActionKind

NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Legs:
    """One command's two legs: until it takes effect, then until makerd hears of it."""

    entry_ns: int
    ack_ns: int


class OrderLatency(Protocol):
    def draw(self, kind: ActionKind | None) -> Legs:
        """The legs of the next command of ``kind`` (None: a query)."""
        ...

    @property
    def market_ack_ns(self) -> int:
        """How long what the market causes (fills) takes to reach makerd."""
        ...

    @property
    def longest_ns(self) -> int:
        """The longest a command can take from its send to its answer."""
        ...


class ConstantLatency:
    """The same legs for every command."""

    def __init__(self, *, entry_ns: int, ack_ns: int) -> None:
        self._legs = Legs(entry_ns=entry_ns, ack_ns=ack_ns)

    def draw(self, kind: ActionKind | None) -> Legs:
        return self._legs

    @property
    def market_ack_ns(self) -> int:
        return self._legs.ack_ns

    @property
    def longest_ns(self) -> int:
        return self._legs.entry_ns + self._legs.ack_ns


class MeasuredLatency:
    """Round trips drawn uniformly from a session's measurements of the same kind (all
    kinds pooled for a kind it never measured, and for queries)."""

    def __init__(self, measured: Mapping[ActionKind, Sequence[int]], *, seed: int = 0) -> None:
        pooled = sorted(ns for samples in measured.values() for ns in samples)
        if not pooled:
            raise ValueError("no measured latencies to draw from")
        if pooled[0] < 0:
            raise ValueError(f"a measured latency is negative: {pooled[0]} ns")
        self._pooled = tuple(pooled)
        self._by_kind = {kind: tuple(sorted(s)) for kind, s in measured.items() if s}
        self._random = random.Random(seed)

    def draw(self, kind: ActionKind | None) -> Legs:
        samples = self._by_kind.get(kind, self._pooled) if kind is not None else self._pooled
        round_trip = samples[self._random.randrange(len(samples))]
        entry = round_trip // 2
        return Legs(entry_ns=entry, ack_ns=round_trip - entry)

    @property
    def market_ack_ns(self) -> int:
        return percentile(self._pooled, 50) // 2

    @property
    def longest_ns(self) -> int:
        return self._pooled[-1]


def percentile(ordered: Sequence[int], percent: int) -> int:
    """The nearest-rank percentile of ``ordered`` (sorted, not empty)."""
    rank = max(1, -(-percent * len(ordered) // 100))
    return ordered[rank - 1]
