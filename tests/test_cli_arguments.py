"""Command-line value checks and process hardening, in-process."""

from __future__ import annotations

import argparse
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from makerd.daemon import arguments
from makerd.daemon.hardening import tighten_state_dir


@pytest.mark.parametrize(
    ("check", "text"),
    [
        (arguments.duration_seconds, "nan"),
        (arguments.duration_seconds, "-inf"),
        (arguments.duration_seconds, "1e12"),
        (arguments.tcp_port, "0"),
        (arguments.tcp_port, "65536"),
        (arguments.tcp_port, "+80"),
        (arguments.tcp_port, "8_0"),
        (arguments.tcp_port, "٨٠"),  # Arabic-Indic digits: int() accepts them
        (arguments.tcp_port_or_any, "-1"),
        (arguments.session_id, "9223372036854775808"),
        (arguments.api_url, "http://"),
        (arguments.coin, "BTC\n"),
        (arguments.coins, "BTC,,ETH"),
        (arguments.coins, "BTC,BTC"),
        (arguments.coins, "BTC,ETH\n"),
        (arguments.path_argument, "a\x00b"),
    ],
)
def test_a_bad_value_is_refused_as_an_argument_error(
    check: Callable[[str], object], text: str
) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        check(text)


def test_good_values_come_back_typed() -> None:
    assert arguments.duration_seconds("2.5") == 2.5
    assert arguments.tcp_port("8787") == 8787
    assert arguments.tcp_port_or_any("0") == 0
    assert arguments.session_id("9223372036854775807") == 2**63 - 1
    assert arguments.coin("kPEPE") == "kPEPE"
    assert arguments.coins("kPEPE") == ("kPEPE",)
    assert arguments.coins("BTC,ETH, xyz:TSLA") == ("BTC", "ETH", "xyz:TSLA")


def test_a_state_dir_that_does_not_exist_yet_is_fine(tmp_path: Path) -> None:
    assert arguments.state_dir_problem(tmp_path / "new") is None


def test_an_empty_journal_file_is_taken_for_a_fresh_database(tmp_path: Path) -> None:
    (tmp_path / "journal.sqlite").touch()

    assert arguments.state_dir_problem(tmp_path) is None


def test_tightening_never_follows_a_symlink_out_of_the_state_dir(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text("x")
    outside.chmod(0o644)
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    state.chmod(0o700)
    os.symlink(outside, state / "journal.sqlite")

    said = tighten_state_dir(state)

    assert said is None
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644
