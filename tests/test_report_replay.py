"""The pieces of live-against-replay: the backtest's report files, the rules file the
recorder leaves beside its files, the config a session keeps, and the cut of a shared
recording directory down to one session's lines."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import pytest

from makerd.config.document import config_document
from makerd.config.loader import DEFAULT_CONFIG_NAME, load_config, parse_config
from makerd.daemon.journal import Journal, SessionRecord
from makerd.daemon.report_replay import (
    NotReplayableError,
    compare_with_replay,
    cut_session_lines,
)
from makerd.daemon.session_settings import record_settings
from makerd.protocol.instrument import Instrument
from makerd.venues.hyperliquid.recording_rules import RULES_NAME, save_rules
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording
from tests.replay_kit import MS, T0, l2_book, write_recorder_file
from tests.test_backtest import makerd

REPO = Path(__file__).resolve().parents[1]
BTC = Instrument(coin="BTC", asset_id=0, sz_decimals=5)


@pytest.fixture(scope="module")
def one_minute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recording") / "btc.gz"
    write_recording(path, SyntheticRecording(seconds=60, seed=5))
    return path


def recording_with_rules(one_minute: Path, tmp_path: Path, rules: Instrument) -> Path:
    """A copy of the recording in a directory whose rules file knows ``rules``' coin."""
    recording = tmp_path / "rec" / "btc.gz"
    recording.parent.mkdir()
    recording.write_bytes(one_minute.read_bytes())
    save_rules(recording.parent, [rules])
    return recording


def test_backtest_report_dir_writes_the_files_makerd_report_writes(
    one_minute: Path, tmp_path: Path
) -> None:
    state, ours, theirs = tmp_path / "s", tmp_path / "backtest-report", tmp_path / "report"
    rules = ("--tick", "1", "--lot", "0.00001")

    backtest = makerd(
        "backtest", str(one_minute), *rules, "--state-dir", str(state), "--report-dir", str(ours),
        cwd=tmp_path,
    )  # fmt: skip
    report = makerd("report", "--state-dir", str(state), "--report-dir", str(theirs), cwd=tmp_path)

    assert backtest.returncode == 0, backtest.stderr
    assert report.returncode == 0, report.stderr
    names = ["summary.json", "fills.csv", "equity.csv", "report.html"]
    assert sorted(p.name for p in ours.iterdir()) == sorted(names)
    for name in ["summary.json", "fills.csv", "equity.csv"]:
        assert (ours / name).read_text() == (theirs / name).read_text(), name
    summary = json.loads((ours / "summary.json").read_text())
    assert summary["mode"] == "backtest"
    assert f"fills           {summary['fills']}\n" in backtest.stdout
    assert f"wrote {ours / 'summary.json'}" in backtest.stdout


def test_an_unwritable_report_dir_exits_78_before_replaying(
    one_minute: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    result = makerd(
        "backtest", str(one_minute), "--tick", "1", "--lot", "0.00001",
        "--state-dir", str(tmp_path / "s"), "--report-dir", str(blocker), cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 78
    assert f"--report-dir {blocker} exists and is not a directory" in result.stderr
    assert not (tmp_path / "s" / "journal.sqlite").exists()


def test_the_backtest_takes_the_rules_the_recorder_saved_beside_the_files(
    one_minute: Path, tmp_path: Path
) -> None:
    recording = recording_with_rules(one_minute, tmp_path, BTC)
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"universe": [{"name": "BTC", "szDecimals": 5, "maxLeverage": 50}]}))

    saved = makerd("backtest", str(recording), "--state-dir", str(tmp_path / "a"), cwd=tmp_path)
    given = makerd(
        "backtest", str(recording), "--meta", str(meta), "--state-dir", str(tmp_path / "b"),
        cwd=tmp_path,
    )  # fmt: skip

    assert saved.returncode == 0, saved.stderr
    assert saved.stdout.split("\n", 1)[1] == given.stdout.split("\n", 1)[1]


def test_a_rules_file_without_the_coin_exits_78_naming_the_file(
    one_minute: Path, tmp_path: Path
) -> None:
    eth = Instrument(coin="ETH", asset_id=1, sz_decimals=4)
    recording = recording_with_rules(one_minute, tmp_path, eth)

    result = makerd("backtest", str(recording), "--state-dir", str(tmp_path / "s"), cwd=tmp_path)

    assert result.returncode == 78
    assert f"{recording.parent / RULES_NAME}: no rules for BTC" in result.stderr


def test_saving_rules_keeps_the_other_coins_and_renews_the_coin(tmp_path: Path) -> None:
    save_rules(tmp_path, [Instrument(coin="ETH", asset_id=1, sz_decimals=4), BTC])
    save_rules(tmp_path, [Instrument(coin="BTC", asset_id=0, sz_decimals=4)])

    coins = json.loads((tmp_path / RULES_NAME).read_text())["coins"]

    assert coins["ETH"]["sz_decimals"] == 4
    assert coins["BTC"]["sz_decimals"] == 4


@pytest.mark.parametrize("name", [DEFAULT_CONFIG_NAME, "paper.yaml", "live.example.yaml"])
def test_a_config_kept_as_a_document_reads_back_the_same(name: str) -> None:
    config = load_config(REPO / "config" / name)

    kept = json.loads(json.dumps(config_document(config)))

    assert parse_config(kept, source="kept") == config


def test_a_shared_recording_directory_gives_only_the_session_s_own_lines(tmp_path: Path) -> None:
    before, during, after = T0 - 5_000 * MS, T0 + 1_000 * MS, T0 + 9_000 * MS
    write_recorder_file(
        tmp_path / "BTC_20250126_14.gz",
        [(ts, l2_book(ts // MS, "100", "101")) for ts in (before, during, after)],
    )
    write_recorder_file(tmp_path / "ETH_20250126_14.gz", [(during, l2_book(0, "1", "2"))])
    session = SessionRecord(
        id=1, started_ns=T0, ended_ns=T0 + 5_000 * MS, mode="live", coin="BTC", summary_json=None
    )
    out = tmp_path / "cut.gz"

    assert cut_session_lines(tmp_path, session, out) == 1
    with gzip.open(out, "rt") as cut:
        assert [int(line.split(" ", 1)[0]) for line in cut] == [during]


def test_replaying_a_session_that_recorded_nothing_says_so(tmp_path: Path) -> None:
    state = tmp_path / "s"
    assert makerd("run", "--state-dir", str(state), "--duration", "1", cwd=tmp_path).returncode == 0

    result = makerd("report", "--state-dir", str(state), "--replay", cwd=tmp_path)

    assert result.returncode == 1
    assert "session 1 is a sim session: only live and paper sessions" in result.stderr
    assert "Traceback" not in result.stderr


def test_replay_with_report_dir_or_all_is_refused_as_a_usage_error(tmp_path: Path) -> None:
    for extra in (["--all"], ["--report-dir", str(tmp_path / "r")]):
        result = makerd("report", "--state-dir", str(tmp_path), "--replay", *extra, cwd=tmp_path)

        assert result.returncode == 78
        assert "--replay takes neither --all nor --report-dir" in result.stderr


def test_a_several_coin_config_kept_as_a_document_reads_back_the_same() -> None:
    config = parse_config(
        {"coins": ["BTC", {"coin": "ETH", "quoting": {"levels": 1}}]}, source="written"
    )

    kept = json.loads(json.dumps(config_document(config)))

    assert parse_config(kept, source="kept") == config
    assert [spec.quoting.levels for spec in config.coin_specs()] == [3, 1]


def session_lacking_eth(tmp_path: Path) -> tuple[Path, int, Path]:
    """A two-coin live session whose recording holds BTC's books only: its state dir,
    id and recording dir."""
    record_dir = tmp_path / "rec"
    save_rules(record_dir, [BTC, Instrument(coin="ETH", asset_id=1, sz_decimals=4)])
    times = [T0 + n * 100 * MS for n in range(10)]
    write_recorder_file(
        record_dir / "all_20250126_14.gz", [(ts, l2_book(ts // MS, "100", "101")) for ts in times]
    )  # BTC's books only
    config = parse_config(
        {"mode": "live", "coins": ["BTC", "ETH"], "feed": {"record_dir": str(record_dir)}},
        source="test",
    )
    state = tmp_path / "s"
    state.mkdir()
    with Journal(state / "journal.sqlite") as journal:
        session = journal.start_session(mode="live", coin="BTC,ETH", ts_ns=T0)
        record_settings(journal, session, config, mode="live")
        journal.end_session(session, ts_ns=T0 + 2_000 * MS, summary_json="{}")
    return state, session, record_dir


def test_a_session_whose_recording_lacks_one_of_its_coins_is_refused_naming_it(
    tmp_path: Path,
) -> None:
    """A coin of the session with no book in its span is refused, not replayed as 0 books."""
    state, session, record_dir = session_lacking_eth(tmp_path)

    result = makerd("report", "--state-dir", str(state), "--replay", cwd=tmp_path)

    assert result.returncode == 1, result.stdout
    assert f"holds no book of ETH between session {session}'s start and its end" in result.stderr
    assert str(record_dir) in result.stderr
    assert "Traceback" not in result.stderr


def test_a_refused_replay_leaves_no_temporary_directory_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, _session, _record_dir = session_lacking_eth(tmp_path)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))

    with pytest.raises(NotReplayableError, match="holds no book of ETH"):
        compare_with_replay(state, None)

    assert list(temporary.iterdir()) == []
