"""Every quoting model on the embedded sim, fixed seeds, every scenario: a comparison table.

Run: ``python bench/compare_models.py`` (``--seconds 300 --seeds 1 2 3``). The actors'
logic runs through the deterministic driver on a simulated clock, so the table depends
only on the models, the scenarios and the seeds. Per model and scenario it prints PnL
after fees (USD, averaged over seeds), fills, maker share, inventory standard deviation
(base units, from 1 s equity snapshots), max drawdown (USD), venue actions per fill, and
the markout guard's spread factor (1 = no widening; capped at 3): its average over the run,
sampled each simulated second, and its level at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
from decimal import Decimal
from pathlib import Path

from makerd.config.model import MakerdConfig, ModelParams, Scenario
from makerd.daemon.backtest import run_simulated
from makerd.daemon.journal import Journal

ORDER_SIZE = 0.002
MODELS: dict[str, dict[str, float | str]] = {
    "symmetric": {},
    "avellaneda_stoikov": {
        "gamma": 0.01,
        "kappa_per_bps": 0.3,
        "horizon_s": 10.0,
        "order_size": ORDER_SIZE,
        "levels": 3,
        "level_spacing_bps": 3.0,
    },
    "glft": {
        "gamma": 0.05,
        "kappa_per_bps": 0.3,
        "arrival_a_per_s": 1.0,
        "order_size": ORDER_SIZE,
        "levels": 3,
        "level_spacing_bps": 3.0,
    },
    "geometric_ladder": {
        "levels": 3,
        "order_size": ORDER_SIZE,
        "min_distance": 3.0,
        "max_distance": 12.0,
    },
    "linear_ladder": {
        "levels": 3,
        "order_size": ORDER_SIZE,
        "base_distance": 3.0,
        "level_step": 3.0,
    },
    "grid": {"levels": 3, "order_size": ORDER_SIZE, "step": 3.0},
}


def configure(model: str, scenario: Scenario, seed: int) -> MakerdConfig:
    base = MakerdConfig()
    params = ModelParams(items=tuple(sorted(MODELS[model].items())))
    return dataclasses.replace(
        base,
        quoting=dataclasses.replace(base.quoting, model=model, params=params),
        sim=dataclasses.replace(base.sim, scenario=scenario, seed=seed),
        # A comparison needs whole sessions: limits that would halt a model are lifted.
        risk=dataclasses.replace(
            base.risk,
            max_drawdown_usd=Decimal(10**9),
            session_loss_usd=Decimal(10**9),
            daily_loss_usd=Decimal(10**9),
            max_position=Decimal(1),
        ),
    )


def inventory_std(state_dir: Path) -> float:
    with Journal(state_dir / "journal.sqlite") as journal:
        positions = [float(s.position) for s in journal.equity(journal.latest_session_id() or 1)]
    return statistics.pstdev(positions) if len(positions) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    args = parser.parse_args()
    print(
        f"{'model':<20} {'scenario':<9} {'pnl usd':>9} {'fills':>6} {'maker':>6} "
        f"{'inv std':>8} {'max dd':>8} {'act/fill':>8} {'widen avg':>9} {'widen end':>9}"
    )
    for model in args.models:
        for scenario in Scenario:
            rows = []
            for seed in args.seeds:
                with tempfile.TemporaryDirectory() as tmp:
                    result = run_simulated(
                        configure(model, scenario, seed), seconds=args.seconds, state_dir=Path(tmp)
                    )
                    counters = result.counters
                    actions = counters.places + counters.modifies + counters.cancels
                    rows.append(
                        (
                            float(result.summary.total_pnl_usd),
                            result.summary.fills,
                            result.summary.maker_ratio,
                            inventory_std(Path(tmp)),
                            float(result.summary.max_drawdown_usd),
                            actions / max(result.summary.fills, 1),
                            result.widening_mean,
                            result.widening_final,
                        )
                    )
            columns = (statistics.fmean(col) for col in zip(*rows, strict=True))
            pnl, fills, _, inv, dd, apf, widen_avg, widen_end = columns
            # Maker share pooled over seeds (a seed without fills has no share to average).
            maker = sum(r[2] * r[1] for r in rows) / max(sum(r[1] for r in rows), 1)
            print(
                f"{model:<20} {scenario.value:<9} {pnl:>9.2f} {fills:>6.0f} {maker:>6.1%} "
                f"{inv:>8.4f} {dd:>8.2f} {apf:>8.1f} {widen_avg:>9.2f} {widen_end:>9.2f}"
            )


if __name__ == "__main__":
    main()
