"""A coin's own risk limits (``coins[i].risk``): read, refused where account-wide, checked
against that coin's own ladder, kept by a reload and by the session's stored config."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from makerd.config.document import config_document
from makerd.config.loader import ConfigError, check_ranges, parse_config
from makerd.daemon.arguments import coin_overrides
from makerd.daemon.basket import Basket
from makerd.daemon.reload import plan_reload
from makerd.daemon.session_settings import settings_of

BTC_AND_SOL: dict[str, object] = {
    "risk": {"max_position": 0.05, "max_position_usd": 3000},
    "coins": [
        "BTC",
        {"coin": "SOL", "quoting": {"order_size": 1}, "risk": {"max_position": 5}},
    ],
}


def problems_of(data: dict[str, object]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as error:
        parse_config(data, source="test")
    return error.value.problems


def with_sol_risk(risk: object) -> dict[str, object]:
    return {**BTC_AND_SOL, "coins": ["BTC", {"coin": "SOL", "risk": risk}]}


def test_a_coin_entry_sets_its_own_limits_and_takes_the_top_level_ones_it_leaves_out() -> None:
    config = parse_config(BTC_AND_SOL, source="test")

    btc, sol = config.coin_risk("BTC"), config.coin_risk("SOL")

    assert (btc.max_position, btc.max_position_usd, btc.reduce_only_at) == (
        Decimal("0.05"),
        Decimal(3000),
        Decimal("0.8"),
    )
    assert (sol.max_position, sol.max_position_usd, sol.reduce_only_at) == (
        Decimal(5),
        Decimal(3000),
        Decimal("0.8"),
    )
    assert sol.session_loss_usd == config.risk.session_loss_usd


def test_an_account_wide_limit_under_a_coin_is_refused_with_its_path_and_coin() -> None:
    problems = problems_of(with_sol_risk({"session_loss_usd": 50, "max_gross_usd": 1000}))

    assert problems == (
        "coins[1].risk.session_loss_usd: an account-wide limit, set it in the top-level "
        "risk section (coin SOL)",
        "coins[1].risk.max_gross_usd: an account-wide limit, set it in the top-level "
        "risk section (coin SOL)",
    )


def test_an_account_wide_setting_under_a_coin_is_called_a_setting_not_a_limit() -> None:
    problems = problems_of(with_sol_risk({"flatten_on_kill": True, "flatten_on_stop": True}))

    assert problems == (
        "coins[1].risk.flatten_on_kill: an account-wide setting, set it in the top-level "
        "risk section (coin SOL)",
        "coins[1].risk.flatten_on_stop: an account-wide setting, set it in the top-level "
        "risk section (coin SOL)",
    )


def test_a_bad_per_coin_value_is_named_with_its_path_and_coin() -> None:
    problems = problems_of(
        with_sol_risk({"max_position": 0, "reduce_only_at": 2, "max_position_usd": "1e3"})
    )

    limit_range = "must be greater than 0 and at most 1000000000"
    assert f"coins[1].risk.max_position: {limit_range}, got 0 (coin SOL)" in problems
    assert (
        "coins[1].risk.reduce_only_at: must be a fraction in (0, 1], got 2 (coin SOL)" in problems
    )
    assert any(
        p.startswith("coins[1].risk.max_position_usd: expected a decimal number, got str")
        and p.endswith("(coin SOL)")
        for p in problems
    ), problems
    assert not any(p.startswith("risk.") for p in problems), "the top-level section is fine"


def test_a_mistyped_per_coin_key_suggests_the_key_meant() -> None:
    problems = problems_of(with_sol_risk({"max_postion": 5}))

    assert problems == (
        "coins[1].risk.max_postion: unknown key (did you mean 'max_position'?) (coin SOL)",
    )


def test_each_coins_ladder_is_judged_against_its_own_position_limit() -> None:
    # SOL's three levels of 1 SOL total 3: inside its own 5, far past the top-level 0.05.
    sol_at_2 = {"coin": "SOL", "quoting": {"order_size": 1}, "risk": {"max_position": 2}}

    assert parse_config(BTC_AND_SOL, source="test").coin_risk("SOL").max_position == 5
    assert problems_of({**BTC_AND_SOL, "coins": ["BTC", sol_at_2]}) == (
        "coins[1].quoting.order_size: one side of the ladder (3 levels from 1, size_decay 1) "
        "totals 3, more than coins[1].risk.max_position (2); a full fill of one side would "
        "trip the kill switch (coin SOL)",
    )


def test_a_coins_own_ladder_under_the_top_level_limit_names_the_top_level_key() -> None:
    sol_ladder = {"coin": "SOL", "quoting": {"order_size": 1}}

    assert problems_of({**BTC_AND_SOL, "coins": ["BTC", sol_ladder]}) == (
        "coins[1].quoting.order_size: one side of the ladder (3 levels from 1, size_decay 1) "
        "totals 3, more than risk.max_position (0.05); a full fill of one side would trip the "
        "kill switch (coin SOL)",
    )


def test_a_coin_limit_below_the_top_level_ladder_is_refused_for_that_coin_alone() -> None:
    problems = problems_of(with_sol_risk({"max_position": 0.004}))

    assert len(problems) == 1, problems
    assert problems[0].startswith("coins[1].quoting.order_size: one side of the ladder")
    assert problems[0].endswith("(coin SOL)")


def test_a_one_coin_config_is_judged_by_its_top_level_section_as_before() -> None:
    config = parse_config({"coin": "ETH", "risk": {"max_position": 0.5}}, source="test")

    assert config.coin_risk("ETH") == config.risk
    assert config.coins == ()


def test_the_stored_config_reads_back_with_each_coins_own_limits() -> None:
    config = parse_config(BTC_AND_SOL, source="test")

    again = parse_config(yaml.safe_load(yaml.safe_dump(config_document(config))), source="x")

    assert again == config
    assert again.coin_risk("SOL").max_position == 5


def test_the_sessions_settings_state_each_coins_limits_in_force() -> None:
    settings = settings_of(parse_config(BTC_AND_SOL, source="test"), mode="sim")

    assert settings.coin_limits == (
        "BTC max_position 0.05, max_position_usd 3000, reduce_only_at 0.8; "
        "SOL max_position 5, max_position_usd 3000, reduce_only_at 0.8"
    )


def test_a_reload_hands_each_coin_its_own_new_limits_and_the_guardian_the_accounts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "coins.yaml"
    path.write_text(yaml.safe_dump(BTC_AND_SOL))
    running = parse_config(BTC_AND_SOL, source="test")
    sol = {"coin": "SOL", "quoting": {"order_size": 1}, "risk": {"max_position": 4}}
    path.write_text(yaml.safe_dump({**BTC_AND_SOL, "coins": ["BTC", sol]}))

    plan = plan_reload(path=path, running=running, file_at_start=running, instruments=())
    assert plan.applied is not None
    btc, sol_changed = Basket.of(plan.applied).parameters_changed(plan.applied, now_ns=1)

    assert plan.restart_only == ()
    assert (btc.coin, btc.risk.max_position) == ("BTC", Decimal("0.05"))
    assert (sol_changed.coin, sol_changed.risk.max_position) == ("SOL", Decimal(4))
    assert sol_changed.account_risk == running.risk


def test_a_top_level_ladder_no_coin_quotes_under_the_top_level_limit_is_not_refused() -> None:
    # The section's ladder is sized for SOL (3 SOL a side), its limit for BTC: BTC quotes its
    # own ladder under 0.05, SOL the section's under its own 5. No coin takes both.
    coins: list[object] = [
        {"coin": "BTC", "quoting": {"order_size": 0.002}},
        {"coin": "SOL", "risk": {"max_position": 5}},
    ]
    config = {"quoting": {"order_size": 1}, "risk": {"max_position": 0.05}, "coins": coins}
    one_takes_both = {**config, "coins": [*coins, "ETH"]}

    assert parse_config(config, source="test").coin_risk("SOL").max_position == 5
    assert problems_of(one_takes_both) == (
        "quoting.order_size: one side of the ladder (3 levels from 1, size_decay 1) totals 3, "
        "more than risk.max_position (0.05); a full fill of one side would trip the kill switch",
    )


def test_one_coin_chosen_on_the_command_line_keeps_its_entrys_own_sections() -> None:
    config = parse_config(BTC_AND_SOL, source="test")

    alone = dataclasses.replace(config, **coin_overrides(config, ("SOL",)))  # type: ignore[arg-type]
    unlisted = dataclasses.replace(config, **coin_overrides(config, ("ETH",)))  # type: ignore[arg-type]

    assert [spec.coin for spec in alone.coin_specs()] == ["SOL"]
    assert alone.coin_risk("SOL").max_position == 5
    assert alone.coin_quoting("SOL").order_size == 1
    assert unlisted.coin_risk("ETH") == config.risk
    assert check_ranges(alone) == []


@pytest.mark.parametrize("section", ["risk", "quoting"])
@pytest.mark.parametrize("written", [[], 0, "", False])
def test_an_entry_section_written_as_an_empty_non_mapping_is_refused_not_read_as_empty(
    section: str, written: object
) -> None:
    """``risk: []`` or ``quoting: 0`` is a slip, not "no overrides": only null (or leaving
    the key out) means the top-level section's values."""
    problems = problems_of({"coins": ["BTC", {"coin": "SOL", section: written}]})

    shown = f"{type(written).__name__} {written!r}"
    assert problems == (f"coins[1].{section}: expected a mapping, got {shown} (coin SOL)",)
