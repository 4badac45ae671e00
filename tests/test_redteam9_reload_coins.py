"""Several coins: a SIGHUP that changes one coin's quoting section changes that coin's
quotes alone, at once; an invalid one names the coin and the field and keeps the run's."""

from __future__ import annotations

import signal
from pathlib import Path

from makerd.config.loader import load_config
from makerd.config.model import MakerdConfig
from makerd.daemon.exit_codes import EXIT_OK
from makerd.daemon.reload import plan_reload
from makerd.protocol.instrument import Instrument
from tests.processes import MakerdProcess, write_config
from tests.test_coins_wiring import problems_of

APPLIED = r"event=config_reload result=applied "
INVALID = r"event=config_reload result=invalid kept=running problems=(.*)"


def _orders(makerd: MakerdProcess, coin: str) -> str:
    return makerd.wait_for(rf"makerd sim {coin} \| .*orders=(\d+) ").group(1)


def _ladder(makerd: MakerdProcess, coin: str) -> int:
    """The coin's ladder size: the most orders its next three status lines show. One line
    alone can catch a filled order before the next target replaces it (CI saw BTC at 5)."""
    return max(int(_orders(makerd, coin)) for _ in range(3))


def test_a_reload_of_one_coins_quoting_moves_that_coin_alone_and_a_bad_one_names_it(
    tmp_path: Path,
) -> None:
    def coins(eth_levels: int) -> dict[str, object]:
        eth = {"coin": "ETH", "quoting": {"levels": eth_levels}}
        return {"coins": ["BTC", eth], "quoting": {"levels": 3}, "status_interval_s": 0.1}

    config = write_config(tmp_path / "coins.yaml", coins(1))
    run_args = ["run", "--state-dir", "state", "--metrics-port", "0", "--config", str(config)]
    makerd = MakerdProcess(run_args, cwd=tmp_path)
    makerd.wait_for(r"makerd sim ETH \| .*orders=2 ", timeout=60)
    makerd.wait_for(r"makerd sim BTC \| .*orders=6 ", timeout=60)

    write_config(config, coins(2))
    makerd.signal(signal.SIGHUP)
    makerd.wait_for(APPLIED)
    makerd.wait_for(r"makerd sim ETH \| .*orders=4 ", timeout=10)
    btc_after = _ladder(makerd, "BTC")

    write_config(config, coins(99))
    makerd.signal(signal.SIGHUP)
    problems = makerd.wait_for(INVALID).group(1)
    eth_kept = _ladder(makerd, "ETH")
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text
    assert btc_after == 6, "BTC's quotes moved with ETH's section"
    assert "coins[1].quoting.levels" in problems, problems
    assert "ETH" in problems, f"the coin is not named: {problems}"
    assert eth_kept == 4, "the invalid section changed ETH's quotes"


def test_an_entrys_order_size_under_the_sim_lot_names_that_entrys_coin_not_the_first() -> None:
    eth = {"coin": "ETH", "quoting": {"order_size": 0.000001}}

    problems = problems_of({"coins": ["BTC", eth]})

    assert problems == (
        "coins[1].quoting.order_size: 0.000001 rounds to zero lots of ETH"
        " (lot 0.00001, sim.sz_decimals 5) (coin ETH)",
    )


def test_a_reloaded_entrys_order_size_under_its_venue_lot_is_refused_under_that_entrys_path(
    tmp_path: Path,
) -> None:
    # Live, a coin's lot comes from the venue's meta: only the start and a reload can judge it.
    def live(eth_size: float) -> MakerdConfig:
        eth = {"coin": "ETH", "quoting": {"order_size": eth_size}}
        return load_config(
            write_config(tmp_path / "live.yaml", {"mode": "live", "coins": ["BTC", eth]})
        )

    running = live(0.01)
    path = tmp_path / "live.yaml"
    live(0.00001)
    instruments = (
        Instrument(coin="BTC", asset_id=0, sz_decimals=5),
        Instrument(coin="ETH", asset_id=1, sz_decimals=4),
    )

    plan = plan_reload(path=path, running=running, file_at_start=running, instruments=instruments)

    assert plan.applied is None
    assert plan.problems == (
        "coins[1].quoting.order_size: 0.00001 rounds to zero lots of ETH (lot 0.0001)",
    )
