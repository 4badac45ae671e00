"""``makerd report``: what past sessions did, read from the journal (never from JSON files).

Safe while makerd runs: SQLite in WAL mode lets this reader see committed rows only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from makerd.config.coins import COIN_SEPARATOR
from makerd.daemon.coin_report import coin_lines
from makerd.daemon.journal import Journal, SessionRecord
from makerd.daemon.report import SessionSummary, format_summary, summarize

JOURNAL_NAME = "journal.sqlite"


class NoJournalError(FileNotFoundError):
    """The state directory holds no journal yet."""


@contextmanager
def session_journal(state_dir: Path, session_id: int | None) -> Iterator[tuple[Journal, int]]:
    """The journal in ``state_dir`` and ``session_id`` (default: the latest session);
    NoJournalError without a journal, KeyError without any session."""
    path = state_dir / JOURNAL_NAME
    if not path.is_file():
        raise NoJournalError(f"no journal at {path}")
    with Journal(path) as journal:
        chosen = journal.latest_session_id() if session_id is None else session_id
        if chosen is None:
            raise KeyError(f"{path}: no sessions yet")
        yield journal, chosen


def report_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot take the report files, or None (it may not exist yet)."""
    if path.exists() and not path.is_dir():
        return "exists and is not a directory"
    parent = next((p for p in (path, *path.parents) if p.exists()), None)
    if parent is not None and not (parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)):
        return f"cannot be written: {parent} is not a writable directory"
    return None


def session_report(state_dir: Path, *, session_id: int | None, list_all: bool) -> str:
    path = state_dir / JOURNAL_NAME
    if not path.is_file():
        raise NoJournalError(f"no journal at {path}")
    with Journal(path) as journal:
        ids = journal.session_ids()
        if not ids:
            return f"{path}: no sessions yet"
        if list_all:
            return "\n".join(_one_line(journal, i, summarize(journal, i)) for i in ids)
        chosen = ids[-1] if session_id is None else session_id
        record = journal.session(chosen)
        return (
            _one_line(journal, chosen, summarize(journal, chosen))
            + "\n"
            + format_summary(summarize(journal, chosen), mode=record.mode)
            + _coins(journal, record)
            + _operator_commands(journal, chosen)
        )


def _coins(journal: Journal, record: SessionRecord) -> str:
    """A session of several coins (``BTC,ETH``): each coin's line from its own fills."""
    coins = tuple(record.coin.split(COIN_SEPARATOR))
    return "" if len(coins) < 2 else "\n" + coin_lines(journal, record.id, coins)


def _operator_commands(journal: Journal, session_id: int) -> str:
    """The session's ``makerd ctl`` commands and their results, if any."""
    rows = journal.operator_commands(session_id)
    lines = [
        f"  {_utc(ts)}  {command:<10}  {'ok' if ok else 'FAILED'}  {detail}"
        for ts, command, ok, detail in rows
    ]
    return "\n".join(["", "operator commands", *lines]) if lines else ""


def _utc(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _one_line(journal: Journal, session_id: int, summary: SessionSummary) -> str:
    record = journal.session(session_id)
    started = _utc(record.started_ns)
    state = "ended" if record.ended_ns is not None else "open (running, or did not stop cleanly)"
    unreadable = unreadable_recording(journal, session_id)
    if unreadable is not None:
        # A backtest ended early by a bad file: its figures end at that line, not the data's end.
        state += f", cut short by an unreadable recording: {unreadable}"
    return (
        f"session {record.id}  {record.mode} {record.coin}  started {started} UTC  "
        f"{summary.duration_s:.0f} s  fills {summary.fills}  "
        f"total pnl {summary.total_pnl_usd:.2f} USD  {state}"
    )


UNREADABLE_RECORDING = "unreadable recording: "
"""How a replay's ``stopped`` row begins its reason when a file ended it part-way."""


def unreadable_recording(journal: Journal, session_id: int) -> str | None:
    """``FILE:LINE: problem`` of the file that cut a replay short, from its ``stopped`` row."""
    for _, _, event, detail in journal.order_events(session_id):
        _, found, error = detail.partition(f" reason={UNREADABLE_RECORDING}")
        if event == "stopped" and found:
            return error
    return None
