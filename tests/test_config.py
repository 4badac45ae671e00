"""Config loading: shipped files load, and every mistake is reported with its path."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from makerd.config.loader import ConfigError, load_config, parse_config
from makerd.config.model import MakerdConfig, Mode, OrderTransport, RestartStrategy, Scenario
from makerd.daemon.cli import install_config_checks

install_config_checks()

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


def problems_of(data: object) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="test.yaml")
    return caught.value.problems


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "makerd.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["sim.yaml", "paper.yaml", "live.example.yaml"])
def test_every_shipped_config_loads_cleanly(name: str) -> None:
    config = load_config(CONFIG_DIR / name)

    assert isinstance(config, MakerdConfig)


def test_shipped_configs_select_their_modes() -> None:
    modes = {
        name: load_config(CONFIG_DIR / name).mode
        for name in ("sim.yaml", "paper.yaml", "live.example.yaml")
    }

    assert modes == {"sim.yaml": Mode.SIM, "paper.yaml": Mode.PAPER, "live.example.yaml": Mode.LIVE}


def test_no_path_loads_the_packaged_sim_defaults_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    config = load_config(None)

    assert config == MakerdConfig()


def test_sim_yaml_writes_out_every_key_of_every_section() -> None:
    written = yaml.safe_load((CONFIG_DIR / "sim.yaml").read_text(encoding="utf-8"))
    defaults = MakerdConfig()

    missing = [
        f"{section.name}.{item.name}"
        for section in dataclasses.fields(defaults)
        if dataclasses.is_dataclass(getattr(defaults, section.name))
        for item in dataclasses.fields(getattr(defaults, section.name))
        if item.name not in written.get(section.name, {})
    ]
    top_level = [item.name for item in dataclasses.fields(defaults) if item.name not in written]

    assert (missing, top_level) == ([], [])


def test_a_mistyped_key_is_rejected_with_the_key_it_probably_meant() -> None:
    problems = problems_of({"quoting": {"levles": 3}})

    assert problems == ("quoting.levles: unknown key (did you mean 'levels'?)",)


def test_an_unknown_key_with_no_near_match_lists_the_known_keys() -> None:
    problems = problems_of({"feed": {"colour": "blue"}})

    assert problems == ("feed.colour: unknown key (known keys: stale_after_s, record_dir)",)


def test_text_where_a_decimal_is_expected_is_rejected() -> None:
    problems = problems_of({"risk": {"max_position": "abc"}})

    assert problems == ("risk.max_position: expected a decimal number, got str 'abc'",)


def test_a_quoted_number_is_rejected_with_a_hint_about_yaml() -> None:
    problems = problems_of({"risk": {"max_position": "1e-5"}})

    assert problems[0].startswith("risk.max_position: expected a decimal number, got str '1e-5'")
    assert "YAML read it as text" in problems[0]


def test_an_unknown_enum_value_lists_the_allowed_values() -> None:
    problems = problems_of({"supervisor": {"strategy": "x"}})

    assert problems == ("supervisor.strategy: must be one of one_for_one, rest_for_one, got 'x'",)


def test_order_actions_can_be_sent_over_http_only_and_a_misspelt_transport_is_named() -> None:
    config = parse_config({"hyperliquid": {"order_transport": "http"}}, source="t")
    problems = problems_of({"hyperliquid": {"order_transport": "ws"}})

    assert config.hyperliquid.order_transport is OrderTransport.HTTP
    assert MakerdConfig().hyperliquid.order_transport is OrderTransport.WEBSOCKET
    assert problems == ("hyperliquid.order_transport: must be one of websocket, http, got 'ws'",)


def test_a_boolean_is_not_accepted_as_an_integer() -> None:
    problems = problems_of({"quoting": {"levels": True}})

    assert problems == ("quoting.levels: expected an integer, got bool True",)


def test_a_yaml_float_becomes_the_decimal_it_was_written_as() -> None:
    config = parse_config(yaml.safe_load("quoting: {order_size: 0.001}"), source="t")

    assert config.quoting.order_size == Decimal("0.001")
    assert str(config.quoting.order_size) == "0.001"


def test_integers_are_accepted_for_float_and_decimal_fields() -> None:
    config = parse_config({"feed": {"stale_after_s": 7}, "sim": {"start_price": 10000}}, source="t")

    assert config.feed.stale_after_s == 7.0
    assert config.sim.start_price == Decimal(10000)


def test_every_problem_is_reported_in_one_error() -> None:
    data = {
        "mode": "demo",
        "quoting": {"levles": 3, "levels": 40, "model": "glfz"},
        "risk": {"max_position": "abc"},
        "metrics": {"port": "http"},
        "surprise": 1,
    }

    problems = problems_of(data)

    assert sorted(problems) == [
        "metrics.port: expected an integer, got str 'http'",
        "mode: must be one of sim, paper, live, got 'demo'",
        "quoting.levels: must be from 1 to 20, got 40",
        "quoting.levles: unknown key (did you mean 'levels'?)",
        "quoting.model: must be one of avellaneda_stoikov, geometric_ladder, glft, grid,"
        " linear_ladder, symmetric, got 'glfz'",
        "risk.max_position: expected a decimal number, got str 'abc'",
        "surprise: unknown key (did you mean 'supervisor'?)",
    ]


def test_no_range_problem_is_reported_about_a_value_that_was_rejected() -> None:
    data = {"feed": {"stale_after_s": "soon"}, "risk": {"stale_feed_halt_s": 1.0}}

    problems = problems_of(data)

    assert problems == ("feed.stale_after_s: expected a number, got str 'soon'",)


def test_range_problems_are_all_reported_with_their_paths() -> None:
    data = {
        "quoting": {"levels": 21, "model": "glfz", "size_decay": 1.5},
        "metrics": {"port": 70000},
        "paper": {"ack_latency_ms": -1},
        "risk": {"max_position": 0},
        "faults": {"crash_role": "trader", "crash_every_s": 1.0},
    }

    problems = problems_of(data)

    assert "quoting.levels: must be from 1 to 20, got 21" in problems
    assert any(p.startswith("quoting.model: must be one of") for p in problems)
    assert "quoting.size_decay: must be a fraction in (0, 1], got 1.5" in problems
    assert "metrics.port: must be from 0 to 65535, got 70000" in problems
    assert "paper.ack_latency_ms: must be from 0 to 60000, got -1" in problems
    assert "risk.max_position: must be greater than 0 and at most 1000000000, got 0" in problems
    [role_problem] = [p for p in problems if p.startswith("faults.crash_role")]
    assert role_problem.startswith("faults.crash_role: must be one of ")
    assert role_problem.endswith("or null, got 'trader'")
    assert all(role in role_problem for role in ("book_feed", "quoter", "watchdog"))


def test_a_ladder_of_zero_levels_is_a_range_problem_not_a_traceback() -> None:
    problems = problems_of({"quoting": {"levels": 0}})

    assert problems == ("quoting.levels: must be from 1 to 20, got 0",)


def test_a_fee_rate_written_in_basis_points_is_caught() -> None:
    problems = problems_of({"paper": {"maker_fee_rate": 1.5}})

    assert problems[0].startswith("paper.maker_fee_rate: must be within (-0.01, 0.01)")
    assert "1.5 bps is 0.00015" in problems[0]


def test_a_halt_limit_shorter_than_the_stale_limit_is_rejected() -> None:
    problems = problems_of({"feed": {"stale_after_s": 10.0}, "risk": {"stale_feed_halt_s": 5.0}})

    assert problems == (
        "risk.stale_feed_halt_s: must be at least feed.stale_after_s (10.0), got 5.0",
    )


def test_port_zero_null_roles_and_null_sections_are_valid() -> None:
    data = {"metrics": {"port": 0}, "faults": {"crash_role": None}, "watchdog": None}

    config = parse_config(data, source="t")

    assert config.metrics.port == 0
    assert config.faults.crash_role is None
    assert config.watchdog == MakerdConfig().watchdog


def test_missing_keys_take_their_defaults() -> None:
    config = parse_config({"sim": {"scenario": "crash"}}, source="t")

    assert config.sim.scenario is Scenario.CRASH
    assert config.sim.seed == MakerdConfig().sim.seed
    assert config.supervisor.strategy is RestartStrategy.ONE_FOR_ONE


def test_a_relative_state_dir_stays_relative() -> None:
    config = parse_config({"state_dir": "data/makerd"}, source="t")

    assert config.state_dir == Path("data/makerd")
    assert not config.state_dir.is_absolute()


def test_the_error_text_prefixes_every_problem_with_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "quoting:\n  levles: 3\nrisk:\n  max_position: abc\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert str(caught.value).splitlines() == [
        f"{path}: quoting.levles: unknown key (did you mean 'levels'?)",
        f"{path}: risk.max_position: expected a decimal number, got str 'abc'",
    ]


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml")

    assert caught.value.problems == ("file not found",)


def test_a_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "mode: sim\nquoting:\n  levels: [3\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert caught.value.problems[0].startswith("line ")
    assert "invalid YAML" in caught.value.problems[0]


def test_a_duplicated_key_is_rejected_instead_of_silently_overwritten(tmp_path: Path) -> None:
    path = write(tmp_path, "risk:\n  max_position: 0.01\n  max_position: 5\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert caught.value.problems == (
        "line 3, column 3: invalid YAML: duplicate key str 'max_position'",
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- mode: sim\n", "<top level>: expected a mapping, got list [{'mode': 'sim'}]"),
        ("", "the file is empty; expected a mapping of settings"),
        ("quoting: 3\n", "quoting: expected a mapping, got int 3"),
    ],
)
def test_a_document_of_the_wrong_shape_is_a_config_error(
    tmp_path: Path, text: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))

    assert caught.value.problems == (problem,)


def test_a_model_judges_its_own_params_and_reports_them_under_quoting_params() -> None:
    data = {"quoting": {"model": "glft", "params": {"gamma": 0.1, "kapa": 1.0}}}

    problems = problems_of(data)

    assert "quoting.params.kapa: unknown parameter for model glft" in problems
    assert "quoting.params.kappa_per_bps: required by GlftModel" in problems


def test_a_valid_model_with_params_loads() -> None:
    params = {"gamma": 0.05, "kappa_per_bps": 0.5, "arrival_a_per_s": 1.0, "order_size": 0.002}

    config = parse_config({"quoting": {"model": "glft", "params": params}}, source="t")

    assert config.quoting.params.as_dict()["gamma"] == 0.05


def test_a_dead_man_switch_the_exchange_would_refuse_at_every_arm_is_refused_at_start() -> None:
    """An arm asks for its send time plus the horizon; the exchange wants 5 s after the arm
    arrives. At exactly 5 s every arm was refused, and after three the quotes came down."""
    with pytest.raises(ConfigError) as refused:
        parse_config({"watchdog": {"dead_man_switch_s": 5}}, source="test")

    assert refused.value.problems == (
        "watchdog.dead_man_switch_s: must be 0 (off) or at least 6 s (the exchange refuses "
        "a scheduled cancel less than 5 s after the arm reaches it; 1 s is left for the "
        "arm's trip), got 5.0",
    )
    assert parse_config({"watchdog": {"dead_man_switch_s": 6}}, source="test")
