"""Several coins' observers behind the one callable the router tells.

Each coin has its own :class:`Observer` (its own status, its own metrics labelled with
its symbol), so a coin's status line, its venue reports at stop and its series mean the
same as with one coin. A message about no coin (the watchdog's, a kill switch, an
operator's answer) goes to the first coin's observer, the process's own, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from makerd.daemon.observer import Observer
from makerd.daemon.status_snapshot import StatusSnapshot

DETAIL_EVERY = 6
"""With several coins, each coin's own status line comes every this many summaries."""


class CoinObservers:
    def __init__(
        self, observers: Mapping[str, Observer], *, coin_of: Callable[[object], str | None]
    ) -> None:
        self.by_coin = dict(observers)
        self.primary = next(iter(self.by_coin.values()))
        self._coin_of = coin_of
        self._gave_up: set[str] = set()
        self._statuses = 0

    def mark_gave_up(self, coin: str) -> None:
        """``coin``'s supervisor gave up: it no longer quotes (shown in the summary)."""
        self._gave_up.add(coin)

    def __call__(self, message: object) -> None:
        coin = self._coin_of(message)
        observer = self.by_coin.get(coin, self.primary) if coin is not None else self.primary
        observer(message)

    def status(self) -> tuple[str, dict[str, str]]:
        """The status line, and each coin's own line when they are due (one coin: never)."""
        if len(self.by_coin) == 1:
            return self.primary.snapshot().line(), {}
        self._statuses += 1
        details = self.detail_lines() if self._statuses % DETAIL_EVERY == 1 else {}
        return self.summary_line(), details

    def all_cycled(self) -> bool:
        """Every coin has completed its first quote cycle (systemd's READY=1). A coin whose
        supervisor gave up before its first one does not hold the others' readiness back:
        the process quotes the rest, and a unit never ready is restarted as a failed start."""
        return all(
            observer.first_cycle.is_set() or coin in self._gave_up
            for coin, observer in self.by_coin.items()
        )

    def summary_line(self) -> str:
        """Every coin in one line: totals, then each coin's state where it is not normal."""
        snapshots = self.snapshots()
        values = snapshots.values()
        gross = sum((abs(s.position) * (s.mid or 0) for s in values), Decimal(0))
        net = sum((s.position * (s.mid or 0) for s in values), Decimal(0))
        unusual = [
            f"{coin}:{'gave_up' if coin in self._gave_up else s.trading_state}"
            for coin, s in snapshots.items()
            if coin in self._gave_up or _unusual(s)
        ]
        return (
            f"coins={len(snapshots)} orders={sum(s.open_orders for s in values)} "
            f"fills={sum(s.fills for s in values)} gross_usd={gross:.2f} net_usd={net:.2f} "
            f"rpnl={sum((s.realized_pnl for s in values), Decimal(0)):.2f} "
            f"upnl={sum((s.unrealized_pnl for s in values), Decimal(0)):.2f} "
            f"fees={sum((s.fees for s in values), Decimal(0)):.2f} "
            f"restarts={sum(s.restarts for s in values)} "
            f"state={','.join(unusual) or 'normal'}"
        )

    def snapshots(self) -> dict[str, StatusSnapshot]:
        return {coin: observer.snapshot() for coin, observer in self.by_coin.items()}

    def detail_lines(self) -> dict[str, str]:
        """Each coin's own status line, as one coin would print it."""
        return {coin: observer.snapshot().line() for coin, observer in self.by_coin.items()}


def _unusual(snapshot: StatusSnapshot) -> bool:
    return snapshot.trading_state != "normal" or snapshot.feed_stale
