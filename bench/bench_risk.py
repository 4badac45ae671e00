"""What the risk guardian costs per message: book updates (price band off and on), position
updates (every limit judged) and margin reports.

Prints microseconds per message and the band's cost as a ratio to a book update with the
band off, all measured in one run. Run: ``python bench/bench_risk.py`` (``--messages
100000``). A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from makerd.actors.risk_guardian import RiskGuardianLogic
from makerd.config.model import RiskConfig
from makerd.daemon.latch import KillSwitchLatch
from makerd.protocol.account import PositionChanged
from makerd.protocol.market import BookLevel, BookUpdated
from makerd.protocol.risk import MarginReported

T0 = 1_700_000_000 * 1_000_000_000
STEP_NS = 100_000_000  # a book every 100 ms
WIDE = RiskConfig(
    max_position=Decimal(1000),
    max_drawdown_usd=Decimal(10**8),
    session_loss_usd=Decimal(10**8),
    daily_loss_usd=Decimal(10**8),
    max_unrealized_loss_usd=Decimal(10**8),
)


def books(count: int) -> list[BookUpdated]:
    """A random walk of one basis point per step: never past a 5% band."""
    rng = random.Random(7)
    mid, out = 60_000.0, []
    for n in range(count):
        mid *= 1 + rng.gauss(0, 1e-4)
        bid, ask = Decimal(f"{mid - 0.5:.1f}"), Decimal(f"{mid + 0.5:.1f}")
        ts = T0 + n * STEP_NS
        out.append(
            BookUpdated(
                coin="BTC",
                bids=(BookLevel(price=bid, size=Decimal(1)),),
                asks=(BookLevel(price=ask, size=Decimal(1)),),
                ts_exchange=ts,
                ts_local=ts,
            )
        )
    return out


def positions(count: int) -> list[PositionChanged]:
    return [
        PositionChanged(
            coin="BTC",
            position=Decimal("0.01"),
            average_entry=Decimal(60000),
            realized_pnl=Decimal(n % 7),
            unrealized_pnl=Decimal(-(n % 5)),
            fees_paid=Decimal("0.1"),
            mark=Decimal(60000),
            ts_local=T0 + n * STEP_NS,
        )
        for n in range(count)
    ]


def margins(count: int) -> list[MarginReported]:
    return [
        MarginReported(
            account_value=Decimal(1000),
            margin_used=Decimal(n % 500),
            ts_exchange=T0 + n,
            ts_local=T0 + n,
        )
        for n in range(count)
    ]


def per_message_us(config: RiskConfig, messages: list[object], state: Path) -> float:
    guardian = RiskGuardianLogic(config=config, latch=KillSwitchLatch(state))
    handle: Callable[[object], list[object]] = guardian.handle
    started = time.perf_counter()
    for message in messages:
        handle(message)
    return (time.perf_counter() - started) / len(messages) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    count = parser.parse_args().messages
    band = dataclasses.replace(
        WIDE, price_band_pct=Decimal(5), price_band_window_s=60.0, price_band_pause_s=30.0
    )
    with tempfile.TemporaryDirectory() as state:
        path = Path(state)
        book_stream: list[object] = list(books(count))
        off = per_message_us(WIDE, book_stream, path)
        on = per_message_us(band, book_stream, path)
        position_us = per_message_us(WIDE, list(positions(count)), path)
        margin_us = per_message_us(WIDE, list(margins(count)), path)
    print(f"risk guardian, {count} messages each (microseconds per message)")
    print(f"  book update, price band off : {off:8.2f}")
    print(f"  book update, band on (60 s) : {on:8.2f}   ({on / off:.1f}x the band off)")
    print(f"  position update, all limits : {position_us:8.2f}")
    print(f"  margin report               : {margin_us:8.2f}")


if __name__ == "__main__":
    main()
