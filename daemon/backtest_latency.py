"""A backtest's order latencies drawn from a session's measured ones (``--latency-from``,
and ``makerd report --replay`` by default), and the line every report states them with.

A session journals each order action's measured acknowledgement latency (table
``ack_latencies``). A session that measured none leaves the backtest on the config's
constants, and the statement says so.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from makerd.config.model import PaperConfig
from makerd.daemon.journal import Journal, JournalError
from makerd.daemon.journal_latency import distribution_text
from makerd.daemon.session_settings import constant_latency
from makerd.protocol.order_actions import ActionKind
from makerd.venues.paper.latency import (
    NS_PER_MS,
    ConstantLatency,
    MeasuredLatency,
    OrderLatency,
)

LATENCY_SEED = 0
"""The draws' seed unless ``--seed`` gives another: a backtest of the same files, config,
journal and seed is repeatable."""


class LatencySourceError(ValueError):
    """``--latency-from`` names no journal or a session it does not hold, or ``--seed`` is
    given without it (nothing to draw)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayLatency:
    """The latencies a backtest draws, and how its reports state them."""

    statement: str
    source: ConstantLatency | Mapping[ActionKind, Sequence[int]]
    """The measured round trips by kind, or the config's constants when the session
    measured none (then nothing is drawn)."""
    seed: int = LATENCY_SEED

    def model(self, coin: str) -> OrderLatency:
        """``coin``'s order latencies. Each coin draws from its own generator, seeded from
        the seed and the coin: which other coins are replayed with it, and what they send,
        changes none of its draws."""
        if isinstance(self.source, ConstantLatency):
            return self.source
        return MeasuredLatency(self.source, seed=coin_seed(self.seed, coin))


def coin_seed(seed: int, coin: str) -> int:
    """A generator's seed made of ``seed`` and ``coin``: the same pair, the same seed, in
    every process (not Python's salted ``hash``)."""
    digest = hashlib.sha256(f"{seed}:{coin}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def session_latency(
    journal: Journal, session_id: int, paper: PaperConfig, *, seed: int = LATENCY_SEED
) -> ReplayLatency:
    """``session_id``'s measured latencies, drawn from a generator seeded with ``seed``; the
    config's constants when it measured none (then nothing is drawn)."""
    measured: defaultdict[ActionKind, list[int]] = defaultdict(list)
    for row in journal.ack_latencies.ack_latencies(session_id):
        measured[row.kind].append(row.latency_ns)
    if not measured:
        constant = ConstantLatency(
            entry_ns=paper.order_entry_latency_ms * NS_PER_MS,
            ack_ns=paper.ack_latency_ms * NS_PER_MS,
        )
        statement = f"{constant_latency(paper)}: session {session_id} measured none"
        return ReplayLatency(source=constant, statement=statement)
    pooled = [ns for samples in measured.values() for ns in samples]
    statement = (
        f"measured ack latency, session {session_id}, {distribution_text(pooled)} "
        f"(each order action draws a round trip of its kind, half each way; seed {seed})"
    )
    MeasuredLatency(measured, seed=seed)  # refuses what cannot be drawn from, here
    return ReplayLatency(source=dict(measured), seed=seed, statement=statement)


def latency_from(source: str, paper: PaperConfig, *, seed: int = LATENCY_SEED) -> ReplayLatency:
    """``JOURNAL[:SESSION]``: that session's latencies (default: the journal's latest
    session that measured any)."""
    path_text, _, session_text = source.rpartition(":")
    if not path_text or not session_text.isdigit():
        path_text, session_text = source, ""
    path = Path(path_text)
    if not path.is_file():
        raise LatencySourceError(f"--latency-from {source}: no journal at {path}")
    try:
        with Journal(path) as journal:
            measured = journal.ack_latencies.measured_sessions()
            session_id = int(session_text) if session_text else max(measured, default=None)
            if session_id is None:
                raise LatencySourceError(
                    f"--latency-from {source}: no session in it measured any latency"
                )
            if session_id not in journal.session_ids():
                raise LatencySourceError(f"--latency-from {source}: no session {session_id}")
            return session_latency(journal, session_id, paper, seed=seed)
    except (JournalError, sqlite3.DatabaseError) as error:
        raise LatencySourceError(f"--latency-from {source}: {error}") from None
