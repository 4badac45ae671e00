"""The command line's own documentation: --version, help on every option, example configs."""

from __future__ import annotations

import argparse
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from makerd.config.loader import load_config
from makerd.daemon.cli import _parser
from tests.processes import makerd_command


def makerd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        makerd_command(args),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def every_action(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += [(f"{name} {where}", act) for where, act in every_action(child)]
        elif not isinstance(action, argparse._HelpAction):
            found.append((parser.prog, action))
    return found


def test_version_prints_the_installed_version() -> None:
    done = makerd("--version")

    assert done.returncode == 0
    assert done.stdout.strip() == f"makerd {version('makerd')}"


def test_every_option_and_argument_has_help_text() -> None:
    undocumented = [
        f"{where}: {'/'.join(action.option_strings) or action.dest}"
        for where, action in every_action(_parser())
        if not action.help
    ]

    assert undocumented == []


def test_the_top_level_help_shows_no_docstring_markup() -> None:
    done = makerd("--help")

    assert done.returncode == 0
    assert "``" not in done.stdout
    assert "--log-format" in done.stdout


@pytest.mark.parametrize("mode", ["sim", "paper", "live"])
def test_config_example_prints_a_packaged_config_for_each_mode(mode: str) -> None:
    done = makerd("config", "example", mode)

    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout)["mode"] == mode


def test_the_sim_example_is_the_default_and_loads_as_a_valid_config(tmp_path: Path) -> None:
    done = makerd("config", "example")
    path = tmp_path / "sim.yaml"
    path.write_text(done.stdout, encoding="utf-8")

    assert done.returncode == 0
    assert load_config(path).mode.value == "sim"
