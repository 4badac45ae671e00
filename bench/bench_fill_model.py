"""The paper fill model against the local venue's matching engine, the strategy taken out.

For each seed: the local venue runs (a 100 ms step), a fixed ladder of post-only orders
is re-posted at the same offsets every --round seconds for --seconds while ``makerd
record`` records the market; then the paper engine replays that recording with the same
orders, once per fill model, and each line says how the two agree (orders filled, volume,
per-order match, same filled size, median time offset of the first fill).

    python bench/bench_fill_model.py --seconds 60 --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from makerd.config.model import QueueModel
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.liquidity import LiquidityConfig
from makerd.venues.hl_local.server import VenueConfig
from tests.fill_model_live import CALM_STEP_BPS, run_ladder
from tests.fill_model_replay import FillModel, agreement, replay_ladder

MODELS = (
    FillModel(name="risk_averse", queue_model=QueueModel.RISK_AVERSE),
    FillModel(name="power_prob", queue_model=QueueModel.POWER_PROB),
    FillModel(name="broken: no trade fills", queue_model=QueueModel.POWER_PROB, ignore_trades=True),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each live run")
    parser.add_argument("--round", type=float, default=2.0, help="seconds between ladders")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--volatility-bps",
        type=float,
        default=CALM_STEP_BPS,
        help="the venue's mid step per 100 ms (its own: 0.5)",
    )
    args = parser.parse_args()
    for seed in args.seeds:
        liquidity = LiquidityConfig(step_volatility_bps=args.volatility_bps)
        venue = VenueThread(
            VenueConfig(
                port=0, auto_provision=True, seed=seed, tick_interval_s=0.1, liquidity=liquidity
            )
        )
        url = venue.start()
        try:
            with tempfile.TemporaryDirectory(prefix="fill-model-") as work:
                ladder = run_ladder(url, Path(work), seconds=args.seconds, round_s=args.round)
                print(f"seed {seed}, {args.seconds:.0f} s, {len(ladder.fills)} venue fills, "
                      f"{ladder.refused} refused", flush=True)  # fmt: skip
                for model in MODELS:
                    figures = agreement(ladder, replay_ladder(ladder, model))
                    print(f"  {model.name:24} {figures.line()}", flush=True)
        finally:
            venue.stop()


if __name__ == "__main__":
    main()
