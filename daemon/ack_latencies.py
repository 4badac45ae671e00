"""Measured acknowledgement latency: from an order action's send to the venue's answer.

The observer sees every command the order manager sends and every answer the venue gives,
on the process's real clock; this is where the latency is measured, once, for both the
``makerd_order_ack_latency_seconds`` histogram and the journal's ``ack_latencies`` table
(a backtest draws its order latencies from a live session's rows). Only accepted answers
count: a refusal may come from the process itself (a closed gate, a tick rule) without a
round trip to the venue.

Rows reach the journal in batches from the watchdog's periodic all-alive report, so no
SQLite write ever runs on the thread that delivers the venue's answers; the session's end
writes what is left.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Protocol

from makerd.daemon.journal_latency import AckLatency
from makerd.protocol.order_actions import ActionKind

MAX_WAITING = 10_000
"""Actions awaiting an answer that are remembered; past this, they are forgotten at once
(answers that never came) rather than let the table grow."""
MAX_PENDING = 10_000
"""Latencies held for the journal; past this (no all-alive report for that long, a hung
actor), they are written at once, wherever that is, rather than held without bound."""


class AckTimer:
    """When each action still awaiting its answer was sent, by kind and cloid."""

    def __init__(self, *, coin: str) -> None:
        self._coin = coin
        self._sent_ns: dict[tuple[ActionKind, str], int] = {}

    def sent(self, kind: ActionKind, cloids: Iterable[str], now_ns: int) -> None:
        if len(self._sent_ns) > MAX_WAITING:
            self._sent_ns.clear()
        for cloid in cloids:
            self._sent_ns[kind, cloid] = now_ns

    def answered(self, kind: ActionKind, cloid: str, now_ns: int) -> AckLatency | None:
        """The action's latency when it was sent in this run; None otherwise (an answer
        to an earlier incarnation, or a second answer to the same action)."""
        sent = self._sent_ns.pop((kind, cloid), None)
        if sent is None:
            return None
        latency_ns = max(now_ns - sent, 0)
        return AckLatency(ts_ns=now_ns, coin=self._coin, kind=kind, latency_ns=latency_ns)

    def refused(self, kind: ActionKind, cloid: str) -> None:
        """The action was refused: it has no latency to keep."""
        self._sent_ns.pop((kind, cloid), None)


class AckLatencyJournal(Protocol):
    def record_ack_latencies(self, session_id: int, latencies: Sequence[AckLatency]) -> None: ...


class AckLatencyLog:
    """The session's measured latencies on their way to the journal (shared by every coin's
    observer, so it has its own lock)."""

    def __init__(self, *, journal: AckLatencyJournal, session_id: int) -> None:
        self._journal = journal
        self._session_id = session_id
        self._lock = threading.Lock()
        self._pending: list[AckLatency] = []

    def add(self, latency: AckLatency) -> None:
        with self._lock:
            self._pending.append(latency)
            full = len(self._pending) >= MAX_PENDING
        if full:
            self.flush()

    def flush(self) -> None:
        """Write what is pending (periodically, and at the session's end)."""
        with self._lock:
            latencies, self._pending = self._pending, []
        if latencies:
            self._journal.record_ack_latencies(self._session_id, latencies)
