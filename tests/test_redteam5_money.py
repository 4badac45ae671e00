"""Money stays exact and within the exchange's rules before anything is sent.

A ladder the exchange would refuse level by level is a config error, not a stream of
rejections; a level the rules cannot place as the model sized it is refused and
reported, never quietly sent at another size.
"""

from __future__ import annotations

import pytest

from makerd.config.loader import ConfigError, parse_config
from makerd.daemon.cli import install_config_checks

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
