"""Money stays exact and within the exchange's rules before anything is sent.

A ladder the exchange would refuse level by level is a config error, not a stream of
rejections; a level the rules cannot place as the model sized it is refused and
reported, never quietly sent at another size.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from makerd.actors.quoter import QuoterLogic
from makerd.config.loader import ConfigError, parse_config
from makerd.config.model import MakerdConfig
from makerd.daemon.basket_wiring import size_problems
from makerd.daemon.cli import install_config_checks
from makerd.daemon.wiring import build_estimators
from makerd.protocol.instrument import Instrument
from makerd.protocol.orders import QuoteLevelsRefused, QuoteTarget
from makerd.quoting.symmetric import SymmetricLadder
from tests.kit import BTC, STALE_AFTER_NS, T0, book, of_type

install_config_checks()

LADDER = {"levels": 20, "level_spacing_bps": 420, "order_size": 0.001, "size_decay": 1}


def test_a_ladder_reaching_past_the_exchange_price_band_is_a_config_error() -> None:
    # 20 levels, 21 bps then 420 bps apart: the deepest sits 8001 bps from the mid, where
    # the exchange refuses every order (more than 80% from the reference price).
    deep = {"quoting": {**LADDER, "first_level_bps": 21}}

    with pytest.raises(ConfigError) as caught:
        parse_config(deep, source="deep.yaml")

    assert any(
        problem.startswith("quoting.level_spacing_bps") and "8001" in problem
        for problem in caught.value.problems
    ), caught.value.problems


def test_a_ladder_reaching_exactly_to_the_band_loads() -> None:
    edge = {"quoting": {**LADDER, "first_level_bps": 20}}

    config = parse_config(edge, source="edge.yaml")

    assert config.quoting.first_level_bps + 19 * config.quoting.level_spacing_bps == 8000


def test_a_level_worth_less_than_the_minimum_order_is_refused_not_quoted_larger() -> None:
    # 0.0001 BTC at 60000 is worth $6: the model asked for that size, not the $10 minimum.
    q = QuoterLogic(
        instrument=BTC,
        model=SymmetricLadder(levels=2, first_level_bps=3, level_spacing_bps=2, order_size=0.0001),
        estimators=build_estimators(MakerdConfig(), started_ns=T0),
        max_position=Decimal("0.0002"),
        min_requote_interval_ns=0,
        stale_after_ns=STALE_AFTER_NS,
    )

    out = q.handle(book("59999", "60001"))

    [refused] = of_type(out, QuoteLevelsRefused)
    assert refused.reasons == ("below_min_notional",) * 4
    [target] = of_type(out, QuoteTarget)
    assert (target.bids, target.asks) == ((), ())


def test_a_ladder_whose_smallest_level_rounds_to_zero_lots_of_one_coin_is_refused_for_it() -> None:
    # Levels of 0.001, 0.0001 and 0.00001: BTC's lot is 0.00001, ETH's 0.0001.
    shrinking = {"quoting": {"levels": 3, "order_size": 0.001, "size_decay": 0.1}}
    config = parse_config({"mode": "paper", **shrinking}, source="paper.yaml")
    btc = Instrument(coin="BTC", asset_id=0, sz_decimals=5)
    eth = Instrument(coin="ETH", asset_id=1, sz_decimals=4)

    problems = size_problems(config, (btc, eth))

    assert problems == [
        "quoting.order_size: the smallest level (0.001 x size_decay 0.1^2 = 0.00001) rounds "
        "to zero lots of ETH (lot 0.0001)"
    ]
