"""Our quoted best bid and ask against the market's touch, sampled for the session report.

The quoter is the one actor that sees both the book and the target it sends, so it owns
a sampler. Sampling happens on timer ticks, never on a book update, and rows reach the
journal in batches: one write every ``batch`` samples keeps SQLite off the quoting path.
The buffer is bounded by the batch size. A stop writes what is pending; a crash loses at
most the unwritten batch (about ten seconds), which a report can afford.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from makerd.protocol.control import TimerFired
from makerd.protocol.market import BookUpdated
from makerd.protocol.orders import QuoteTarget

NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteSample:
    """Our best quotes (None: that side was not quoted) and the touch at ``ts_local``."""

    ts_local: int
    bid: Decimal | None
    ask: Decimal | None
    touch_bid: Decimal | None
    touch_ask: Decimal | None


class QuoteSampleJournal(Protocol):
    def record_quote_samples(self, session_id: int, samples: Sequence[QuoteSample]) -> None: ...


class QuoteSampler:
    """Keeps the newest target; on a timer tick at most once per interval, takes a sample."""

    def __init__(
        self,
        *,
        journal: QuoteSampleJournal,
        session_id: int,
        interval_ns: int = NS_PER_S,
        batch: int = 10,
    ) -> None:
        self._journal = journal
        self._session_id = session_id
        self._interval_ns = interval_ns
        self._batch = batch
        self._target: QuoteTarget | None = None
        self._last_sample_ns: int | None = None
        self._pending: list[QuoteSample] = []

    def observe(self, message: object, sent: list[object], book: BookUpdated | None) -> None:
        """What the quoter just handled (``message``) and sent (``sent``), with its book."""
        for out in sent:
            if isinstance(out, QuoteTarget):
                self._target = out
        if isinstance(message, TimerFired) and book is not None:
            self._sample(message.ts_local, book)

    def _sample(self, now_ns: int, book: BookUpdated) -> None:
        last = self._last_sample_ns
        if last is not None and now_ns - last < self._interval_ns:
            return
        self._last_sample_ns = now_ns
        target = self._target
        self._pending.append(
            QuoteSample(
                ts_local=now_ns,
                bid=target.bids[0].price if target is not None and target.bids else None,
                ask=target.asks[0].price if target is not None and target.asks else None,
                touch_bid=book.best_bid,
                touch_ask=book.best_ask,
            )
        )
        if len(self._pending) >= self._batch:
            self.flush()

    def flush(self) -> None:
        """Write what is pending (at every full batch, and when the quoter stops)."""
        if self._pending:
            samples, self._pending = self._pending, []
            self._journal.record_quote_samples(self._session_id, samples)
