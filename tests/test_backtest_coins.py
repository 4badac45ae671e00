"""makerd backtest of several coins: each coin is traded by the very machines its own
replay runs, so coins that cannot reach each other's limits book exactly their own
replay's fills; the same inputs give the same fills; a coin without rules is refused
before anything is read or written. Real driver, paper engine and SQLite journal."""

from __future__ import annotations

import dataclasses
import gzip
import json
import subprocess
from decimal import Decimal
from pathlib import Path

import lz4.frame
import pytest

from makerd.config.model import CoinSpec, MakerdConfig
from makerd.daemon.backtest_latency import latency_from
from makerd.daemon.journal import Journal
from makerd.daemon.replay import ReplayResult, instrument_from_steps, run_replay
from makerd.protocol.instrument import Instrument
from makerd.protocol.market import BookSnapshotReceived, TradePrinted
from makerd.venues.hyperliquid.recording_rules import save_rules
from makerd.venues.replay.stream import ReplayStream
from makerd.venues.replay.synthetic import START_NS, SyntheticRecording, write_recording
from tests.processes import makerd_command
from tests.replay_kit import MS, T0, iso, l2_book, write_archive_hour
from tests.test_backtest_latency import measured_journal

BTC = instrument_from_steps("BTC", tick=Decimal(1), lot=Decimal("0.00001"))
ETH = instrument_from_steps("ETH", tick=Decimal("0.1"), lot=Decimal("0.0001"))
BASE = MakerdConfig()
"""No account-wide limit is set (``max_gross_usd``, ``max_net_usd`` are 0) and the loss
limits are hundreds of dollars from what two minutes lose: no coin can halt another."""
ETH_QUOTING = dataclasses.replace(BASE.quoting, order_size=Decimal("0.01"))
TWO_COINS = dataclasses.replace(
    BASE,
    coin="BTC",
    coins=(CoinSpec(coin="BTC", quoting=BASE.quoting), CoinSpec(coin="ETH", quoting=ETH_QUOTING)),
)

FillRow = tuple[str, str, str, str, int, int, str, str, str, str]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two minutes of each coin, written as the recorder would write each alone."""
    folder = tmp_path_factory.mktemp("recordings")
    btc, eth = folder / "btc.gz", folder / "eth.gz"
    write_recording(btc, SyntheticRecording(seconds=120, seed=11))
    eth_market = SyntheticRecording(
        seconds=120, seed=12, coin="ETH", start_price=Decimal(3000), sz_decimals=4
    )
    write_recording(eth, eth_market)
    return btc, eth


def fill_rows(state_dir: Path, coin: str) -> list[FillRow]:
    """``coin``'s fills as booked, without the ids a run mints (client id lanes, trade ids)."""
    journal = Journal(state_dir / "journal.sqlite")
    try:
        return [
            (
                f.side.value,
                str(f.price),
                str(f.size),
                str(f.fee),
                f.ts_local,
                f.ts_exchange,
                f.liquidity.value,
                str(booked.realized_pnl),
                str(booked.position_after),
                f.coin,
            )
            for booked in journal.fills()
            if (f := booked.fill).coin == coin
        ]
    finally:
        journal.close()


def ids(state_dir: Path) -> list[tuple[str, str | None]]:
    journal = Journal(state_dir / "journal.sqlite")
    try:
        return [(booked.fill.trade_id, booked.fill.cloid) for booked in journal.fills()]
    finally:
        journal.close()


def one_coin(coin: Instrument) -> MakerdConfig:
    quoting = ETH_QUOTING if coin.coin == "ETH" else BASE.quoting
    return dataclasses.replace(BASE, coin=coin.coin, quoting=quoting)


def replay_together_and_alone(files: list[Path], tmp_path: Path) -> ReplayResult:
    """Replay both coins, then each alone; each coin books its own replay's fills."""
    both = run_replay(TWO_COINS, files, instrument=(BTC, ETH), state_dir=tmp_path / "both")
    for coin in (BTC, ETH):
        alone = tmp_path / coin.coin
        run_replay(one_coin(coin), files, instrument=coin, state_dir=alone)

        own = fill_rows(alone, coin.coin)
        assert len(own) > 50, "the coin trades enough for the comparison to mean something"
        assert fill_rows(tmp_path / "both", coin.coin) == own, coin.coin
    return both


def test_each_coin_books_exactly_the_fills_of_its_own_replay(
    recordings: tuple[Path, Path], tmp_path: Path
) -> None:
    both = replay_together_and_alone(list(recordings), tmp_path)

    assert both.replayed_by_coin["BTC"]["books"] == both.replayed_by_coin["ETH"]["books"] == 1201
    assert both.run.summary.final_position is None, "each coin's position, not their sum"
    assert both.run.tracked_positions.keys() == {"BTC", "ETH"}


LATE_NS = 30_037 * MS
"""ETH's recording begins with a book 30.037 s after BTC's first line (at 0.005 s)."""


@pytest.fixture(scope="module")
def late_eth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ETH recorded from 30 s after BTC, its books 37 ms after each 100 ms step, not 5:
    a timer counted from either coin's first line ticks at other instants between books."""
    folder = tmp_path_factory.mktemp("late")
    whole, late = folder / "eth-whole.gz", folder / "eth-late.gz"
    market = SyntheticRecording(
        seconds=120, seed=12, coin="ETH", start_price=Decimal(3000), sz_decimals=4,
        feed_latency_ms=37,
    )  # fmt: skip
    write_recording(whole, market)
    starts_ns = START_NS + LATE_NS
    with gzip.open(whole, "rt", encoding="utf-8") as source, gzip.open(late, "wt") as sink:
        sink.writelines(line for line in source if int(line.partition(" ")[0]) >= starts_ns)
    return late


def test_coins_whose_recordings_start_apart_each_book_their_own_replays_fills(
    recordings: tuple[Path, Path], late_eth: Path, tmp_path: Path
) -> None:
    """The quote timer's instants do not depend on when the other coin's data begins."""
    both = replay_together_and_alone([recordings[0], late_eth], tmp_path)

    assert both.replayed_by_coin["ETH"]["books"] < both.replayed_by_coin["BTC"]["books"]


def test_with_measured_latencies_btc_fills_the_same_with_and_without_eth(
    recordings: tuple[Path, Path], tmp_path: Path
) -> None:
    """Each coin draws its latencies from its own generator: ETH's commands take none of
    BTC's draws."""
    journal = tmp_path / "measured.sqlite"
    measured_journal(journal, [ms * MS for ms in (1, 2, 2, 3, 5, 8, 40)])
    files = list(recordings)

    run_replay(
        TWO_COINS, files, instrument=(BTC, ETH), state_dir=tmp_path / "both",
        latency=latency_from(str(journal), BASE.paper),
    )  # fmt: skip
    run_replay(
        one_coin(BTC), files, instrument=BTC, state_dir=tmp_path / "alone",
        latency=latency_from(str(journal), BASE.paper),
    )  # fmt: skip

    alone = fill_rows(tmp_path / "alone", "BTC")
    assert len(alone) > 50, "BTC trades enough for the comparison to mean something"
    assert fill_rows(tmp_path / "both", "BTC") == alone


def test_a_file_holding_both_coins_replays_as_the_two_files_do(
    recordings: tuple[Path, Path], tmp_path: Path
) -> None:
    """The recorder writes several coins into one file: read once, it gives the same run."""
    merged = tmp_path / "all.gz"
    lines: list[str] = []
    for path in recordings:
        with gzip.open(path, "rt", encoding="utf-8") as source:
            lines.extend(source)
    # A stable sort keeps each file's order among lines of the same instant.
    lines.sort(key=lambda line: int(line.partition(" ")[0]))
    with gzip.open(merged, "wt", encoding="utf-8") as sink:
        sink.writelines(lines)

    run_replay(TWO_COINS, list(recordings), instrument=(BTC, ETH), state_dir=tmp_path / "two")
    run_replay(TWO_COINS, [merged], instrument=(BTC, ETH), state_dir=tmp_path / "one")

    for coin in ("BTC", "ETH"):
        assert fill_rows(tmp_path / "one", coin) == fill_rows(tmp_path / "two", coin)


def test_the_same_files_and_config_give_identical_fills_twice(
    recordings: tuple[Path, Path], tmp_path: Path
) -> None:
    files = list(recordings)
    first = run_replay(TWO_COINS, files, instrument=(BTC, ETH), state_dir=tmp_path / "a")
    second = run_replay(TWO_COINS, files, instrument=(BTC, ETH), state_dir=tmp_path / "b")

    for coin in ("BTC", "ETH"):
        assert fill_rows(tmp_path / "a", coin) == fill_rows(tmp_path / "b", coin)
    assert ids(tmp_path / "a") == ids(tmp_path / "b"), "trade and client ids too"
    assert first.run.summary == second.run.summary
    trade_ids = [trade_id for trade_id, _ in ids(tmp_path / "a")]
    assert len(set(trade_ids)) == len(trade_ids), "no coin's trade id is another's"


def makerd(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        makerd_command(["--log-format", "text", *args], cwd=cwd),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_a_rules_file_without_one_of_the_coins_exits_78_naming_it_and_journals_nothing(
    recordings: tuple[Path, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "recorded"
    save_rules(folder, [BTC])  # the recorder saw BTC only
    files = []
    for path in recordings:
        files.append(folder / path.name)
        files[-1].write_bytes(path.read_bytes())

    state = tmp_path / "s"
    result = makerd(
        "backtest", *map(str, files), "--coin", "BTC,ETH", "--state-dir", str(state), cwd=tmp_path
    )

    assert result.returncode == 78
    assert "no rules for ETH" in result.stderr
    assert "Traceback" not in result.stderr
    assert not state.exists(), "refused before anything was written"


def test_tick_and_lot_for_several_coins_exit_78_saying_what_to_give(
    recordings: tuple[Path, Path], tmp_path: Path
) -> None:
    state = tmp_path / "s"
    rules = ("--tick", "1", "--lot", "0.00001")
    result = makerd(
        "backtest", *map(str, recordings), "--coin", "BTC,ETH", *rules, "--state-dir", str(state),
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 78
    assert "--tick and --lot give one coin's rules, not those of BTC, ETH" in result.stderr
    assert "--meta" in result.stderr
    assert not state.exists()


def test_a_backtest_of_two_coins_prints_the_account_and_each_coin_as_report_does(
    recordings: tuple[Path, Path], tmp_path: Path
) -> None:
    files = beside_rules(tmp_path, *recordings)
    config = tmp_path / "two.yaml"
    config.write_text("coins:\n  - BTC\n  - coin: ETH\n    quoting: {order_size: 0.01}\n")
    state = tmp_path / "s"

    backtest = makerd(
        "backtest", *map(str, files), "--config", str(config), "--state-dir", str(state),
        cwd=tmp_path,
    )  # fmt: skip
    report = makerd("report", "--state-dir", str(state), cwd=tmp_path)

    assert backtest.returncode == 0, backtest.stderr
    assert "(backtest, BTC,ETH)" in backtest.stdout
    assert "backtest BTC,ETH" in report.stdout
    coin_lines = [line for line in backtest.stdout.splitlines() if "fills=" in line]
    assert [line.split()[0] for line in coin_lines] == ["BTC", "ETH"]
    assert all(line in report.stdout for line in coin_lines), "the same lines as report's"
    printed = [line.split()[0] for line in backtest.stdout.splitlines() if "1201 books" in line]
    assert printed == ["BTC", "ETH"], "what each coin replayed"


def beside_rules(tmp_path: Path, *paths: Path) -> list[Path]:
    """Copies of ``paths`` in a folder whose rules file has both coins'."""
    folder = tmp_path / "recorded"
    save_rules(folder, [BTC, ETH])
    files = []
    for path in paths:
        files.append(folder / path.name)
        files[-1].write_bytes(path.read_bytes())
    return files


def test_a_coin_with_no_book_in_the_files_exits_78_naming_it_and_the_files(
    recordings: tuple[Path, Path], tmp_path: Path
) -> None:
    files = beside_rules(tmp_path, recordings[0])  # BTC's recording only
    state = tmp_path / "s"

    result = makerd(
        "backtest", *map(str, files), "--coin", "BTC,ETH", "--state-dir", str(state), cwd=tmp_path
    )

    assert result.returncode == 78, result.stdout
    assert f"makerd: backtest: no book of ETH in {files[0]} (every file searched)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not state.exists(), "refused before anything was replayed or written"


def test_a_coin_whose_data_begins_late_is_replayed_and_the_summary_says_when(
    recordings: tuple[Path, Path], late_eth: Path, tmp_path: Path
) -> None:
    files = beside_rules(tmp_path, recordings[0], late_eth)
    result = makerd(
        "backtest", *map(str, files), "--coin", "BTC,ETH", "--state-dir", str(tmp_path / "s"),
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if " books, " in line}
    assert lines["ETH"].endswith("; its first book 30.0 s in"), lines["ETH"]
    assert "; its first book" not in lines["BTC"], "BTC's data begins the replay"


def test_two_coins_archive_books_of_one_hour_bring_its_trades_file_once(tmp_path: Path) -> None:
    trade_rows: list[dict[str, object]] = [
        {"coin": coin, "side": "A", "time": iso(T0 + 100 * MS), "px": px, "sz": "0.3",
         "hash": f"0x{n}", "side_info": [{}, {}]}
        for n, (coin, px) in enumerate([("BTC", "100"), ("ETH", "30"), ("SOL", "5")])
    ]  # fmt: skip
    btc_books = write_archive_hour(
        tmp_path, books=[(T0, l2_book(T0 // MS, "100", "101"))], trade_rows=trade_rows
    )
    eth_books = btc_books.with_name("ETH.lz4")
    eth_line = {
        "time": iso(T0 + MS),
        "ver_num": 1,
        "raw": l2_book(T0 // MS, "30", "31", coin="ETH"),
    }
    eth_books.write_bytes(lz4.frame.compress((json.dumps(eth_line) + "\n").encode()))

    events = list(ReplayStream([btc_books, eth_books], coin=frozenset({"BTC", "ETH"})))

    books = [(e.coin, e.ts_local) for e in events if isinstance(e, BookSnapshotReceived)]
    assert books == [("BTC", T0), ("ETH", T0 + MS)]
    prints = [e.trade_id for e in events if isinstance(e, TradePrinted)]
    assert prints == ["BTC:0x0:1", "ETH:0x1:2"], "each trade once, SOL's left out"
