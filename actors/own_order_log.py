"""Our orders' changes, kept while a session records its market, for replaying it without us.

The recording holds our own orders in the venue's book sizes; a replay of it takes them
out again (see :mod:`venues.replay.own_orders`) from these rows: every status change of
every order the order manager handles, with its price and remaining size. Rows reach the
journal in batches, as the quote sampler's do, so SQLite stays off the order path; a stop
writes what is pending and a crash loses at most one batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from makerd.protocol.orders import OrderStateChanged


class OwnOrderJournal(Protocol):
    def record_own_orders(self, session_id: int, changes: Sequence[OrderStateChanged]) -> None: ...


class OwnOrderLog:
    """Collects the :class:`OrderStateChanged` the order manager sends; writes them in batches."""

    def __init__(self, *, journal: OwnOrderJournal, session_id: int, batch: int = 50) -> None:
        self._journal = journal
        self._session_id = session_id
        self._batch = batch
        self._pending: list[OrderStateChanged] = []

    def observe(self, sent: Sequence[object]) -> None:
        """What the order manager just sent."""
        self._pending.extend(out for out in sent if isinstance(out, OrderStateChanged))
        if len(self._pending) >= self._batch:
            self.flush()

    def flush(self) -> None:
        """Write what is pending (at every full batch, and when the order manager stops)."""
        if self._pending:
            changes, self._pending = self._pending, []
            self._journal.record_own_orders(self._session_id, changes)
