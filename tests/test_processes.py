"""The suite's makerd never takes the default metrics port unless a test means it to."""

from __future__ import annotations

import errno
import socket
import sys
from pathlib import Path

import pytest

from tests.processes import makerd_command, write_config

PYTHON = [sys.executable, "-m", "makerd"]


def test_a_run_that_chose_no_metrics_port_listens_on_any_free_one() -> None:
    command = makerd_command(["run", "--state-dir", "var", "--duration", "1"])

    assert command == [
        *PYTHON,
        "run",
        "--metrics-port",
        "0",
        "--state-dir",
        "var",
        "--duration",
        "1",
    ]


def test_the_free_port_goes_after_run_when_global_options_come_first() -> None:
    command = makerd_command(["--log-format", "text", "--log-level", "DEBUG", "run"])

    assert command[len(PYTHON) :] == [
        *("--log-format", "text", "--log-level", "DEBUG"),
        *("run", "--metrics-port", "0"),
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--metrics-port", "9108"],
        ["run", "--metrics-port=9200"],
        ["run", "--metrics", "9300"],  # argparse's prefix of --metrics-port
        ["report", "--state-dir", "var"],
        ["backtest", "run"],  # "run" here names a file, not the command
        ["--version"],
    ],
)
def test_a_chosen_port_and_other_commands_are_left_as_they_are(args: list[str]) -> None:
    assert makerd_command(args) == [*PYTHON, *args]


def test_a_config_that_sets_the_metrics_port_keeps_it(tmp_path: Path) -> None:
    write_config(tmp_path / "port.yaml", {"metrics": {"port": 9108}})

    relative = makerd_command(["run", "--config", "port.yaml"], cwd=tmp_path)
    joined = makerd_command(["--log-level=INFO", "run", f"--config={tmp_path / 'port.yaml'}"])

    assert relative == [*PYTHON, "run", "--config", "port.yaml"]
    assert "--metrics-port" not in joined


@pytest.mark.parametrize(
    "text", ["metrics:\n  enabled: false\n", "quoting: [unclosed\n", "- a list\n", ""]
)
def test_a_config_that_sets_no_metrics_port_gets_a_free_one(tmp_path: Path, text: str) -> None:
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")

    command = makerd_command(["run", "--config", "config.yaml"], cwd=tmp_path)

    assert command[len(PYTHON) :][:3] == ["run", "--metrics-port", "0"]


def test_a_config_that_is_not_a_regular_file_is_not_read() -> None:
    command = makerd_command(["run", "--config", "/dev/zero"])  # reading it would never end

    assert command[len(PYTHON) :] == ["run", "--metrics-port", "0", "--config", "/dev/zero"]


def test_the_default_metrics_port_is_held_while_the_suite_runs() -> None:
    """tests/conftest.py holds it: a test whose makerd binds it fails at once, here, and not
    on the next machine where an operator's makerd holds it."""
    with pytest.raises(OSError, match="in use") as refused:
        socket.create_server(("127.0.0.1", 9108)).close()

    assert refused.value.errno == errno.EADDRINUSE
