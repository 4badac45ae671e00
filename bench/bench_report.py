"""How long ``makerd report --report-dir`` takes on a long session, and how much memory.

Writes a journal that looks like HOURS of a live session (one equity snapshot and one
quote sample a second, FILLS_PER_HOUR fills an hour, a seeded random walk), then times
the report on it in this process and prints its wall time, the peak RSS of the process
(building the journal included) and the output sizes.
Run: ``python bench/bench_report.py --hours 1 24``. A benchmark: it prints, it asserts
nothing.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from makerd.actors.quote_sampler import QuoteSample
from makerd.config.model import MakerdConfig
from makerd.daemon.journal import Journal
from makerd.daemon.report_files import write_report
from makerd.daemon.session_settings import record_settings
from makerd.protocol.account import Liquidity, OrderFilled, PositionChanged
from makerd.protocol.side import Side

NS_PER_S = 1_000_000_000
START_NS = 1_700_000_000 * NS_PER_S
FILLS_PER_HOUR = 400
BATCH = 3_600


def build_journal(path: Path, hours: int, seed: int) -> tuple[Journal, int]:
    rng = random.Random(seed)
    journal = Journal(path)
    session = journal.start_session(mode="paper", coin="BTC", ts_ns=START_NS)
    record_settings(journal, session, MakerdConfig(), mode="paper")
    mid, position, realized, fees = Decimal(60_000), Decimal(0), Decimal(0), Decimal(0)
    samples: list[QuoteSample] = []
    fill_every = 3_600 // FILLS_PER_HOUR
    for second in range(hours * 3_600):
        ts = START_NS + second * NS_PER_S
        mid += rng.choice((-1, 0, 1))
        if second % fill_every == 0:
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            size = Decimal("0.001")
            price = mid - 1 if side is Side.BUY else mid + 1
            fee = price * size * Decimal("0.00015")
            position += size if side is Side.BUY else -size
            fees += fee
            fill = OrderFilled(
                trade_id=f"t{second}", cloid=None, venue_order_id=second, coin="BTC", side=side,
                price=price, size=size, fee=fee, liquidity=Liquidity.MAKER, ts_exchange=ts,
                ts_local=ts,
            )  # fmt: skip
            journal.record_fill(session, fill, realized_pnl=Decimal(0), position_after=position)
        journal.record_equity(session, PositionChanged(
            coin="BTC", position=position, average_entry=Decimal(60_000), realized_pnl=realized,
            unrealized_pnl=position * (mid - Decimal(60_000)), fees_paid=fees, mark=mid,
            ts_local=ts,
        ))  # fmt: skip
        samples.append(QuoteSample(ts_local=ts, bid=mid - 2, ask=mid + 2, touch_bid=mid - 1,
                                   touch_ask=mid + 1))  # fmt: skip
        if len(samples) == BATCH:
            journal.report_tables.record_quote_samples(session, samples)
            samples = []
    journal.report_tables.record_quote_samples(session, samples)
    return journal, session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, nargs="+", default=[1, 24])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"{'hours':>5} {'rows':>9} {'fills':>6} {'report s':>9} {'peak RSS MB':>12} "
          f"{'html KB':>8} {'equity.csv KB':>14}")  # fmt: skip
    for hours in args.hours:
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch)
            journal, session = build_journal(root / "journal.sqlite", hours, args.seed)
            started = time.perf_counter()
            write_report(journal, session, root / "out")
            elapsed = time.perf_counter() - started
            journal.close()
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            html_kb = (root / "out" / "report.html").stat().st_size / 1024
            equity_kb = (root / "out" / "equity.csv").stat().st_size / 1024
            rows = hours * 3_600
            print(f"{hours:>5} {rows:>9} {hours * FILLS_PER_HOUR:>6} {elapsed:>9.2f} "
                  f"{peak_mb:>12.0f} {html_kb:>8.0f} {equity_kb:>14.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
