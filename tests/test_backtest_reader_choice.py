"""``--reader auto`` looks at the cores (a 0.2 s sample) only for an input large enough that
a second reading process could win back that look: a short recording is read inline at
once. Every run says where it read its files and why.

Real recordings and real ``makerd backtest`` processes; the one stand-in is the idle-core
measure given to ``choose_reader``, so that a test can tell whether it was asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from makerd.venues.replay.ahead import SMALL_INPUT_BYTES, choose_reader
from makerd.venues.replay.synthetic import SyntheticRecording, write_recording
from tests.test_backtest import makerd


def never_sampled() -> float:
    raise AssertionError("the cores were sampled")


def test_a_short_input_is_read_inline_without_sampling_the_cores() -> None:
    choice = choose_reader("auto", input_bytes=SMALL_INPUT_BYTES - 1, idle=never_sampled)

    assert choice.ahead is False
    assert choice.statement() == (
        "read inline (auto: 1.00 MB of input, under the 1 MB a second process needs to pay "
        "for itself; cores not sampled)"
    )


@pytest.mark.parametrize(("idle", "ahead"), [(2.0, True), (1.0, False)])
def test_a_long_input_is_read_ahead_when_the_sample_finds_a_core_idle(
    idle: float, ahead: bool
) -> None:
    choice = choose_reader("auto", input_bytes=SMALL_INPUT_BYTES, idle=lambda: idle)

    assert choice.ahead is ahead
    assert choice.why == f"auto: {idle:.1f} cores idle, 1.5 wanted"


@pytest.mark.parametrize(("reader", "ahead"), [("process", True), ("inline", False)])
def test_a_forced_reader_is_taken_whatever_the_size_without_a_sample(
    reader: str, ahead: bool
) -> None:
    for size in (0, SMALL_INPUT_BYTES * 100):
        choice = choose_reader(reader, input_bytes=size, idle=never_sampled)  # type: ignore[arg-type]
        assert choice.ahead is ahead
        assert choice.why == f"--reader {reader}"


@pytest.fixture(scope="module")
def short_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("short") / "btc.gz"
    write_recording(path, SyntheticRecording(seconds=20, seed=3))
    return path


@pytest.mark.parametrize(
    ("reader", "said", "why"),
    [
        (
            "auto",
            "read inline (auto: 0.0",
            "a second process needs to pay for itself; cores not sampled)",
        ),
        ("process", "read in a second process, ahead of the replay", "(--reader process)"),
        ("inline", "read inline", "(--reader inline)"),
    ],
)
def test_the_run_says_where_it_read_the_files_and_why(
    short_recording: Path, tmp_path: Path, reader: str, said: str, why: str
) -> None:
    rules = ("--tick", "1", "--lot", "0.00001", "--state-dir", str(tmp_path / "state"))

    done = makerd("backtest", str(short_recording), *rules, "--reader", reader, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    read = [line for line in done.stdout.splitlines() if line.startswith("read ")]
    assert len(read) == 1, done.stdout
    assert read[0].startswith(said)
    assert read[0].endswith(why)
