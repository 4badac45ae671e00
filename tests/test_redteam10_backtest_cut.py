"""A recording that turns unreadable part-way ends the backtest with ``FILE:LINE: problem``
(exit 1), and the journal's session is ended there, as a run that stopped: the report
shows it ended and cut short, never still running, and its figures are those of the
lines before the bad one. Real processes, real gzip files, the real SQLite journal."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from makerd.daemon.journal import Journal
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording
from tests.test_backtest import BTC_RULES, fill_rows, makerd


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A minute of BTC in the recorder's format, seeded."""
    folder = tmp_path_factory.mktemp("recorded")
    write_recording(folder / "btc.gz", SyntheticRecording(seconds=60, seed=11))
    return folder / "btc.gz"


def truncated(recording: Path, folder: Path) -> Path:
    """The recording with the second half of its compressed bytes gone."""
    cut = folder / "cut.gz"
    data = recording.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    return cut


def first_lines(recording: Path, count: int, path: Path) -> Path:
    """A whole recording of the first ``count`` lines of ``recording``."""
    with gzip.open(recording, "rt", encoding="utf-8") as source:
        lines = [line for _, line in zip(range(count), source, strict=False)]
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(lines)
    return path


def backtest(path: Path, state: Path, *, reader: str = "auto") -> CompletedProcess[str]:
    cwd = state.parent
    return makerd(
        "backtest", str(path), *BTC_RULES, "--state-dir", str(state), "--reader", reader, cwd=cwd
    )


def bad_line(stderr: str, path: Path) -> int:
    """The line the error names: ``makerd: backtest: FILE:LINE: problem``."""
    prefix = f"makerd: backtest: {path}:"
    line = next(line for line in stderr.splitlines() if line.startswith(prefix))
    return int(line[len(prefix) :].split(":", 1)[0])


@pytest.mark.parametrize("reader", ["inline", "process"])
def test_a_recording_cut_part_way_ends_the_session_with_what_was_replayed(
    recorded: Path, tmp_path: Path, reader: str
) -> None:
    cut = truncated(recorded, tmp_path)
    state = tmp_path / "state"

    result = backtest(cut, state, reader=reader)

    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert "truncated" in result.stderr
    line = bad_line(result.stderr, cut)
    assert line > 100, "the cut is part-way, after many events"
    assert "session 1 (backtest, BTC)" in result.stdout
    assert f"cut short at {cut}:{line}: the rest of the recording was not replayed" in (
        result.stdout
    )
    journal = Journal(state / "journal.sqlite")
    try:
        session = journal.session(1)
        stopped = journal.order_events(1)[-1]
    finally:
        journal.close()
    assert session.ended_ns is not None, "the session is ended, not left looking alive"
    assert stopped[2] == "stopped"
    assert f" reason=unreadable recording: {cut}:{line}: truncated" in stopped[3]

    report = makerd("report", "--state-dir", str(state), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    header = report.stdout.splitlines()[0]
    assert "open (running" not in header
    assert f"ended, cut short by an unreadable recording: {cut}:{line}: truncated" in header

    # The figures are those of the lines before the bad one, replayed as a whole file.
    whole = first_lines(recorded, line - 1, tmp_path / "first.gz")
    again = tmp_path / "again"
    done = backtest(whole, again, reader=reader)
    assert done.returncode == 0, done.stderr
    assert len(fill_rows(state)) > 0
    assert [row[1:] for row in fill_rows(state)] == [row[1:] for row in fill_rows(again)]


def test_a_corrupt_line_part_way_ends_the_session_there(recorded: Path, tmp_path: Path) -> None:
    with gzip.open(recorded, "rt", encoding="utf-8") as source:
        lines = source.readlines()
    broken = tmp_path / "broken.gz"
    with gzip.open(broken, "wt", encoding="utf-8") as out:
        out.writelines([*lines[:300], "not a stamp\n", *lines[300:]])
    state = tmp_path / "state"

    result = backtest(broken, state)

    assert result.returncode == 1
    assert f"makerd: backtest: {broken}:301: expected '<local time ns> <JSON message>'" in (
        result.stderr
    )
    files = tmp_path / "report"
    report = makerd("report", "--state-dir", str(state), "--report-dir", str(files), cwd=tmp_path)
    header = report.stdout.splitlines()[0]
    assert f"ended, cut short by an unreadable recording: {broken}:301: expected" in header
    summary = json.loads((files / "summary.json").read_text())
    assert summary["cut_short_by"] == (f"{broken}:301: expected '<local time ns> <JSON message>'")
    assert f"cut short by an unreadable recording: {broken}:301:" in (
        (files / "report.html").read_text()
    )


def test_a_run_cut_short_still_writes_its_report_files_saying_so(
    recorded: Path, tmp_path: Path
) -> None:
    """``--report-dir`` on a run cut short: the files of what was replayed, each saying
    where it was cut; the exit is still 1, so a script does not take it for a whole run."""
    cut = truncated(recorded, tmp_path)
    state, files = tmp_path / "state", tmp_path / "report"

    result = makerd(
        "backtest", str(cut), *BTC_RULES, "--state-dir", str(state),
        "--report-dir", str(files), cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 1, result.stdout
    line = bad_line(result.stderr, cut)
    summary = json.loads((files / "summary.json").read_text())
    assert summary["cut_short_by"].startswith(f"{cut}:{line}: truncated")
    assert summary["fills"] == len(fill_rows(state)) > 0
    assert (files / "fills.csv").read_text().count("\n") == len(fill_rows(state)) + 1
    assert f"cut short by an unreadable recording: {cut}:{line}:" in (
        (files / "report.html").read_text()
    )
    assert f"wrote {files / 'summary.json'}" in result.stdout
