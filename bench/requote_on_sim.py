"""The requote policy on the embedded sim: the default against the asymmetric one.

Run: ``python bench/requote_on_sim.py`` (``--seconds 600``). The actors' logic runs
through the deterministic driver on a simulated clock (``makerd.daemon.backtest``), so the
figures depend only on the configs. Per policy it prints fills, orders placed, modified
and cancelled (orders, not batched actions), realized PnL before fees, fees, and the
total PnL after fees with the position marked at the end (USD). The
asymmetric policy is ``queue_hold_factor: 1`` (an order ahead of its level never widened)
with ``behind_tolerance_factor: 8`` (one behind it may drift 8 times the tolerance);
``bench/bench_reaction.py --config`` measures it against the local venue's jumps.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from decimal import Decimal
from pathlib import Path

from makerd.config.model import MakerdConfig
from makerd.daemon.backtest import run_simulated


def policies() -> dict[str, MakerdConfig]:
    base = MakerdConfig()
    asymmetric = dataclasses.replace(
        base.order_manager, queue_hold_factor=Decimal(1), behind_tolerance_factor=Decimal(8)
    )
    return {"default": base, "asymmetric": dataclasses.replace(base, order_manager=asymmetric)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    args = parser.parse_args()
    print(
        "| policy | fills | orders placed / modified / cancelled"
        " | realized before fees | fees | PnL |"
    )
    print("|---|---|---|---|---|---|")
    for name, config in policies().items():
        with tempfile.TemporaryDirectory() as tmp:
            result = run_simulated(config, seconds=args.seconds, state_dir=Path(tmp))
        done, money = result.counters, result.summary
        print(
            f"| {name} | {done.fills} | {done.places} / {done.modifies} / {done.cancels}"
            f" | {money.realized_pnl_usd:+.2f} | {money.fees_usd:.2f}"
            f" | {money.total_pnl_usd:+.2f} USD |"
        )


if __name__ == "__main__":
    main()
