"""A table of bad command lines: each exits 78 naming the argument, with no traceback and
no network request.

``run`` cases are live-mode runs with a valid key and ``--api-url`` pointing at a listener
that counts connections (unless the case replaces them), so an argument that slipped
through would show up as a connection, not merely as a different exit code.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_CONFIG
from makerd.daemon.journal import Journal
from tests.hostile_kit import VALID_KEY, ConnectionCounter, Finished, run_makerd


@dataclass(frozen=True, slots=True)
class Line:
    args: tuple[str, ...]
    expect: str
    """Must appear in stderr: the argument's name (or the state dir's problem)."""

    @property
    def name(self) -> str:
        return " ".join(self.args)[:70]


def run(*args: str, expect: str) -> Line:
    return Line(("run", *args), expect)


LINES = [
    run("--duration", "nan", expect="--duration"),
    run("--duration", "inf", expect="--duration"),
    run("--duration", "-5", expect="--duration"),
    run("--duration", "0", expect="--duration"),
    run("--duration", "soon", expect="--duration"),
    run("--duration", "1e400", expect="--duration"),
    run("--metrics-port", "-1", expect="--metrics-port"),
    run("--metrics-port", "70000", expect="--metrics-port"),
    run("--metrics-port", "http", expect="--metrics-port"),
    run("--metrics-port", " 80", expect="--metrics-port"),
    run("--api-url", "nonsense", expect="--api-url"),
    run("--api-url", "http://[::1", expect="--api-url"),
    run("--api-url", "ftp://127.0.0.1", expect="--api-url"),
    run("--api-url", "http://127.0.0.1:99999", expect="--api-url"),
    run("--api-url", "", expect="--api-url"),
    run("--coin", "", expect="--coin"),
    run("--coin", "BT C", expect="--coin"),
    run("--coin", "X" * 100, expect="--coin"),
    run("--config", "/dev/zero", expect="/dev/zero: is not a regular file"),
    run("--config", "{tmp}/missing.yaml", expect="missing.yaml: file not found"),
    run("--config", "{tmp}", expect="is a directory"),
    run("--config", "", expect="--config"),
    run("--mode", "moon", expect="--mode"),
    run("--state-dir", "/etc/passwd", expect="/etc/passwd is not a directory"),
    run("--state-dir", "/etc/passwd/state", expect="a parent of it is not a directory"),
    run("--state-dir", "{foreign}", expect="not an SQLite database"),
    run("--state-dir", "{journal_dir}", expect="journal.sqlite that is not a regular file"),
    run("--state-dir", "{socket_file_dir}", expect="control.sock exists and is not a socket"),
    run("--state-dir", "", expect="--state-dir"),
    run("--loud", expect="unrecognized arguments: --loud"),
    Line(("report", "--session", str(10**23)), "--session"),
    Line(("report", "--session", "0"), "--session"),
    Line(("report", "--session", "-1"), "--session"),
    Line(("report", "--session", "latest"), "--session"),
    Line(("report", "--state-dir", "/etc/passwd"), "/etc/passwd is not a directory"),
    Line(("report", "--state-dir", "{foreign}"), "not an SQLite database"),
    Line(("clear-kill-switch", "--state-dir", "/etc/passwd"), "/etc/passwd is not a directory"),
    Line(("clear-kill-switch", "--state-dir", "{foreign}"), "not an SQLite database"),
    Line(("clear-kill-switch", "--config", "/dev/zero"), "/dev/zero: is not a regular file"),
    Line(("check-config",), "the following arguments are required: FILE"),
    Line(("check-config", "/dev/zero"), "/dev/zero: is not a regular file"),
    Line(("--log-level", "LOUD", "run"), "--log-level"),
    Line((), "the following arguments are required: command"),
]


def _expand(args: tuple[str, ...], places: dict[str, str]) -> list[str]:
    return [arg.format(**places) for arg in args]


def _live_defaults(line: Line, api_url: str, tmp: Path) -> list[str]:
    """Live mode against the listener, in a private state dir, unless the line says otherwise."""
    if line.args[:1] != ("run",):
        return []
    given = set(line.args)
    extra = [] if "--mode" in given else ["--mode", "live"]
    extra += [] if "--api-url" in given else ["--api-url", api_url]
    extra += [] if "--state-dir" in given else ["--state-dir", str(tmp / "state")]
    return extra


@dataclass
class Outcomes:
    finished: dict[str, Finished]
    connections: int


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcomes]:
    tmp = tmp_path_factory.mktemp("hostile-cli")
    foreign = tmp / "foreign"
    foreign.mkdir()
    (foreign / "journal.sqlite").write_text("root:x:0:0:root:/root:/bin/sh\n")
    journal_dir = tmp / "journal-dir"
    (journal_dir / "journal.sqlite").mkdir(parents=True)
    # A regular file where the control socket goes: before, makerd built the venue (asking
    # the exchange for its instruments) and journaled a session before it found out.
    socket_file_dir = tmp / "socket-file"
    socket_file_dir.mkdir()
    (socket_file_dir / "control.sock").write_text("not a socket\n")
    places = {
        "tmp": str(tmp),
        "foreign": str(foreign),
        "journal_dir": str(journal_dir),
        "socket_file_dir": str(socket_file_dir),
    }
    listener = ConnectionCounter()
    env = {"MAKERD_PRIVATE_KEY": VALID_KEY}

    def start(line: Line) -> Finished:
        args = _expand(line.args, places) + _live_defaults(line, listener.url, tmp)
        return run_makerd(args, cwd=tmp, env=env)

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            finished = dict(zip((line.name for line in LINES), pool.map(start, LINES), strict=True))
        yield Outcomes(finished, listener.connections)
    finally:
        listener.close()
    # Refused means untouched: the foreign file is still what it was.
    assert (foreign / "journal.sqlite").read_text().startswith("root:x:0:0")


def test_the_table_holds_at_least_thirty_distinct_bad_command_lines() -> None:
    assert len({line.name for line in LINES}) == len(LINES) >= 30


@pytest.mark.parametrize("line", LINES, ids=[line.name for line in LINES])
def test_a_bad_command_line_exits_78_naming_the_argument(line: Line, outcomes: Outcomes) -> None:
    finished = outcomes.finished[line.name]

    assert finished.code == EXIT_CONFIG, finished.text
    assert line.expect in finished.stderr, finished.stderr
    assert "Traceback" not in finished.text


def test_no_refused_command_line_made_a_network_request(outcomes: Outcomes) -> None:
    assert outcomes.connections == 0


def test_the_help_documents_the_exit_codes(tmp_path: Path) -> None:
    finished = run_makerd(["run", "--help"], cwd=tmp_path)

    assert finished.code == 0
    assert "78  invalid command line or configuration" in finished.stdout


def test_a_real_journal_in_the_state_dir_is_accepted_by_report(tmp_path: Path) -> None:
    Journal(tmp_path / "journal.sqlite").close()

    finished = run_makerd(["report", "--state-dir", str(tmp_path)], cwd=tmp_path)

    assert finished.code == 0, finished.text
    assert "no sessions yet" in finished.stdout
