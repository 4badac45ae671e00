"""The end-of-session report, computed from the journal alone.

Fills give counts, volume, maker ratio, fees and realized PnL; funding payments give
funding; equity snapshots (every state of the ledger the fill tracker published, the
same figures the kill switch judged) give unrealized PnL and the drawdown path. Total
PnL is realized + unrealized − fees + funding. The final position and unrealized PnL are
the newest of the last fill's and the last snapshot's: a position a fill closed has no
unrealized PnL left, so a loss realized by a flatten is never counted again as
unrealized. The restarts table gives restarts. Nothing here reads live actor state, so
a report can be produced after the process is gone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal

from makerd.config.coins import COIN_SEPARATOR
from makerd.daemon.journal import EquitySnapshot, Journal, JournaledFill
from makerd.protocol.account import Liquidity

NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSummary:
    """What a session did, in USD and base units; drawdown is never negative."""

    fills: int
    volume_usd: Decimal
    maker_ratio: float
    fees_usd: Decimal
    funding_usd: Decimal
    realized_pnl_usd: Decimal
    unrealized_pnl_usd: Decimal
    total_pnl_usd: Decimal
    max_drawdown_usd: Decimal
    restarts: int
    duration_s: float
    final_position: Decimal | None
    """None for a session of several coins: their positions do not add up (each coin's
    line of ``makerd report`` and of the stop's output has its own)."""


def summarize(journal: Journal, session_id: int, *, ended_ns: int | None = None) -> SessionSummary:
    """Summarise ``session_id`` from the journal (KeyError if there is no such session).

    ``ended_ns``: the end of a session about to be ended with this summary, so that the
    summary it stores states the same duration as every later reading of it.

    One pass over the fills and one over the equity snapshots, read a page at a time:
    the summary of a days-long backtest needs no more memory than an hour's."""
    journal.session(session_id)
    walk = SummaryWalk()
    for booked in journal.fills_in_pages(session_id):
        walk.add_fill(booked)
    for snapshot in journal.equity_in_pages(session_id):
        walk.add_snapshot(snapshot)
    return walk.summary(journal, session_id, ended_ns=ended_ns)


class SummaryWalk:
    """The summary's running sums, fed a row at a time: a reader that walks the rows for
    its own reasons (the report files) feeds them here too, and reads each table once."""

    def __init__(self) -> None:
        self._fills = _FillTotals()
        self._drawdown = _Drawdown()
        self._last_snapshot: EquitySnapshot | None = None

    def add_fill(self, booked: JournaledFill) -> None:
        self._fills.add(booked)

    def add_snapshot(self, snapshot: EquitySnapshot) -> None:
        self._drawdown.add(snapshot.total_pnl)
        self._last_snapshot = snapshot

    def summary(
        self, journal: Journal, session_id: int, *, ended_ns: int | None = None
    ) -> SessionSummary:
        """The summary of the rows fed, with what the session's other tables add
        (``ended_ns``: see :func:`summarize`)."""
        session = journal.session(session_id)
        fills, last_snapshot = self._fills, self._last_snapshot
        funding = journal.session_funding(session_id)
        position, unrealized = _final_position(last_snapshot, fills.last)
        several_coins = COIN_SEPARATOR in session.coin
        ended_ns = (
            ended_ns
            or session.ended_ns
            or max(
                session.started_ns,
                last_snapshot.ts_ns if last_snapshot is not None else 0,
                fills.last_seen_ns,
            )
        )
        return SessionSummary(
            fills=fills.count,
            volume_usd=fills.volume,
            maker_ratio=fills.makers / fills.count if fills.count else 0.0,
            fees_usd=fills.fees,
            funding_usd=funding,
            realized_pnl_usd=fills.realized,
            unrealized_pnl_usd=unrealized,
            total_pnl_usd=fills.realized + unrealized - fills.fees + funding,
            max_drawdown_usd=self._drawdown.deepest,
            restarts=journal.restart_count(session_id),
            duration_s=max(0, ended_ns - session.started_ns) / NS_PER_S,
            final_position=None if several_coins else position,
        )


class _FillTotals:
    """Running sums over a session's fills, in booking order."""

    def __init__(self) -> None:
        self.count = 0
        self.makers = 0
        self.volume = Decimal(0)
        self.fees = Decimal(0)
        self.realized = Decimal(0)
        self.last: JournaledFill | None = None
        self.last_seen_ns = 0

    def add(self, booked: JournaledFill) -> None:
        fill = booked.fill
        self.count += 1
        self.makers += fill.liquidity is Liquidity.MAKER
        self.volume += fill.price * fill.size
        self.fees += fill.fee
        self.realized += booked.realized_pnl
        self.last = booked
        self.last_seen_ns = max(self.last_seen_ns, fill.ts_local)


class _Drawdown:
    """The largest fall of total PnL from an earlier peak, fed one value at a time.

    The first value is the first peak: the ledger may carry PnL in from before the
    session, so "zero" is not assumed to be where the session started.
    """

    def __init__(self) -> None:
        self._peak: Decimal | None = None
        self.deepest = Decimal(0)

    def add(self, total: Decimal) -> None:
        if self._peak is None or total > self._peak:
            self._peak = total
        self.deepest = max(self.deepest, self._peak - total)


def max_drawdown(equity: Iterable[EquitySnapshot]) -> Decimal:
    """Largest fall of total PnL from an earlier peak of the series (0 if it never fell)."""
    drawdown = _Drawdown()
    for snapshot in equity:
        drawdown.add(snapshot.total_pnl)
    return drawdown.deepest


def funding_simulated(mode: str) -> bool:
    """Whether a session of ``mode`` books funding: a backtest does not (a recording holds
    no funding rates), so its funding is unknown, not zero."""
    return mode != "backtest"


def format_summary(summary: SessionSummary, *, mode: str | None = None) -> str:
    """Multi-line, aligned, human-readable text of ``summary`` (of a session of ``mode``)."""
    funding_known = mode is None or funding_simulated(mode)
    rows = [
        ("fills", str(summary.fills)),
        ("volume", _usd(summary.volume_usd)),
        ("maker ratio", f"{summary.maker_ratio:.1%}"),
        ("fees", _usd(summary.fees_usd)),
        ("funding", _usd(summary.funding_usd) if funding_known else "not simulated"),
        ("realized pnl", _usd(summary.realized_pnl_usd)),
        ("unrealized pnl", _usd(summary.unrealized_pnl_usd)),
        ("total pnl", _usd(summary.total_pnl_usd)),
        ("max drawdown", _usd(summary.max_drawdown_usd)),
        ("final position", _position(summary.final_position)),
        ("restarts", str(summary.restarts)),
        ("duration", f"{summary.duration_s:.1f} s"),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def summary_to_json(summary: SessionSummary) -> str:
    """JSON for :meth:`Journal.end_session`; decimals as exact strings."""
    return json.dumps(
        {key: format(v, "f") if isinstance(v, Decimal) else v for key, v in asdict(summary).items()}
    )


def _position(position: Decimal | None) -> str:
    return "each coin's, below" if position is None else format(position, "f")


def _usd(amount: Decimal) -> str:
    return f"{amount:,.2f} USD"


def _final_position(
    last_snapshot: EquitySnapshot | None, last_fill: JournaledFill | None
) -> tuple[Decimal, Decimal]:
    """Position and unrealized PnL at the end: the last snapshot's, unless a fill came
    after it (a crash between booking a fill and journaling its state). Then the fill
    gives the position, and a position it closed has nothing unrealized."""
    if last_fill is not None and (
        last_snapshot is None or last_fill.fill.ts_local > last_snapshot.ts_ns
    ):
        position = last_fill.position_after
        if position == 0 or last_snapshot is None:
            return position, Decimal(0)
        return position, last_snapshot.unrealized
    if last_snapshot is None:
        return Decimal(0), Decimal(0)
    return last_snapshot.position, last_snapshot.unrealized
