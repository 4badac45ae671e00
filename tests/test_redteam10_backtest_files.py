"""A file given to a backtest that holds no book and no trade of any coin replayed is
named in the run's output: the user learns it added nothing (another coin's recording,
another hour's), and the run goes on, since no figure of the replayed coins depends on it.
Real processes, seeded recordings in the recorder's format, the real journal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from makerd.daemon.replay import instrument_from_steps
from makerd.venues.hyperliquid.recording_rules import save_rules
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording
from tests.test_backtest import BTC_RULES, fill_rows, makerd

BTC = instrument_from_steps("BTC", tick=Decimal(1), lot=Decimal("0.00001"))
ETH = instrument_from_steps("ETH", tick=Decimal("0.1"), lot=Decimal("0.0001"))
SOL = instrument_from_steps("SOL", tick=Decimal("0.01"), lot=Decimal("0.01"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twenty seconds of BTC, ETH and SOL, one file each, and a minute of BTC, with the
    recorder's rules file."""
    folder = tmp_path_factory.mktemp("recorded")
    save_rules(folder, [BTC, ETH, SOL])
    write_recording(folder / "btc.gz", SyntheticRecording(seconds=20, seed=11))
    write_recording(folder / "minute.gz", SyntheticRecording(seconds=60, seed=13))
    markets = {"eth": (Decimal(3000), 4), "sol": (Decimal(200), 2)}
    for name, (price, sz_decimals) in markets.items():
        market = SyntheticRecording(
            seconds=20, seed=12, coin=name.upper(), start_price=price, sz_decimals=sz_decimals
        )
        write_recording(folder / f"{name}.gz", market)
    return folder


def nothing_of(stdout: str) -> list[str]:
    """The files the run says added nothing."""
    return [line for line in stdout.splitlines() if "it added nothing to the replay" in line]


@pytest.mark.parametrize("reader", ["inline", "process"])
def test_a_file_of_another_coin_among_two_coins_files_is_named(
    folder: Path, tmp_path: Path, reader: str
) -> None:
    btc, eth, sol = (folder / f"{name}.gz" for name in ("btc", "eth", "sol"))

    result = makerd(
        "backtest", str(btc), str(sol), str(eth), "--coin", "BTC,ETH",
        "--state-dir", str(tmp_path / "s"), "--reader", reader, cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert nothing_of(result.stdout) == [
        f"{sol}: no book or trade of BTC or ETH in it: it added nothing to the replay"
    ]
    assert len(fill_rows(tmp_path / "s")) > 0


@pytest.mark.parametrize(
    ("names", "coins", "named"),
    [
        (("eth", "btc"), "BTC", ["eth"]),  # a file without the one coin replayed
        (("btc", "eth"), "BTC,ETH", []),  # each file holds a coin: neither is named
    ],
)
def test_a_file_is_named_only_when_it_holds_none_of_the_coins(
    folder: Path, tmp_path: Path, names: tuple[str, ...], coins: str, named: list[str]
) -> None:
    files = [str(folder / f"{name}.gz") for name in names]
    state = str(tmp_path / "s")

    result = makerd("backtest", *files, "--coin", coins, "--state-dir", state, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert nothing_of(result.stdout) == [
        f"{folder / name}.gz: no book or trade of {coins} in it: it added nothing to the replay"
        for name in named
    ]


@pytest.mark.parametrize("reader", ["inline", "process"])
def test_a_file_read_through_before_another_turned_out_unreadable_is_named(
    folder: Path, tmp_path: Path, reader: str
) -> None:
    sol, cut = folder / "sol.gz", tmp_path / "cut.gz"
    whole = (folder / "minute.gz").read_bytes()
    cut.write_bytes(whole[: len(whole) * 3 // 4])  # its last quarter, past SOL's 20 s, gone

    result = makerd(
        "backtest", str(cut), str(sol), *BTC_RULES, "--state-dir", str(tmp_path / "s"),
        "--reader", reader, cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 1, result.stdout
    assert f"makerd: backtest: {cut}:" in result.stderr
    assert nothing_of(result.stdout) == [
        f"{sol}: no book or trade of BTC in it: it added nothing to the replay"
    ]
