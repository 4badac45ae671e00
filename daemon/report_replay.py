"""``makerd report --session N --replay``: a live or paper session against its own backtest.

A session that recorded its market stream (``feed.record_dir``) kept, in the journal, the
directory and its whole config. This replays the lines that session received (those
stamped between its start and its end, from the recorder's files of its coin or coins), less the
session's own orders and fills (see :mod:`venues.replay.own_orders`), through
``makerd backtest``'s machinery with that config and the rules saved beside the files,
drawing order latencies from the ones the session measured (:mod:`makerd.backtest_latency`),
into a journal of its own, and hands both summaries, each with its average queue wait
(:mod:`makerd.report_queue_wait`), to :mod:`makerd.report_compare`.
"""

from __future__ import annotations

import dataclasses
import gzip
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TextIO

from makerd.config.coins import COIN_SEPARATOR
from makerd.config.errors import ConfigError
from makerd.config.loader import parse_config
from makerd.config.model import MakerdConfig
from makerd.daemon.backtest_coins import coins_without_books
from makerd.daemon.backtest_latency import LATENCY_SEED, session_latency
from makerd.daemon.cloids import coin_of_lane
from makerd.daemon.journal import Journal, SessionRecord
from makerd.daemon.replay import run_replay
from makerd.daemon.report_queue_wait import QUEUE_WAIT_KEY, average_queue_wait
from makerd.daemon.report_replay_coins import coin_documents
from makerd.daemon.report_stats import report_figures
from makerd.daemon.report_summary import JsonValue, summary_document
from makerd.daemon.session_settings import ReplayInputs, constant_latency, read_replay_inputs
from makerd.daemon.sessions import JOURNAL_NAME, session_journal
from makerd.protocol.instrument import Instrument
from makerd.venues.hyperliquid.recording_files import file_label
from makerd.venues.hyperliquid.recording_rules import RULES_NAME, RulesFileError, load_rules
from makerd.venues.replay.own_orders import OwnOrders

REPLAYABLE_MODES = ("live", "paper")
_NS_PER_S = 1_000_000_000
_STAMP = re.compile(r"_(\d{8})_(\d{2})(\d{4})?(?:_\d+)?\.gz(?:\.part)?$")


class NotReplayableError(ValueError):
    """The session cannot be replayed: wrong mode, nothing recorded, nothing kept."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayComparison:
    live: dict[str, JsonValue]
    replay: dict[str, JsonValue]
    replay_state_dir: Path
    """Where the replay's own journal is (``makerd report --state-dir`` reads it)."""
    lines: int
    """Recorded lines of the session's time span that were replayed."""
    own: OwnOrders
    """The session's own orders and fills, and how much of them the replay took out."""
    latency: str
    """The order latencies the replay drew, as its report states them."""
    coins: dict[str, tuple[dict[str, JsonValue], dict[str, JsonValue]]] = dataclasses.field(
        default_factory=dict
    )
    """With several coins: each coin's figures in the session and in the replay."""


def compare_with_replay(
    state_dir: Path,
    session_id: int | None,
    *,
    measured_latency: bool = True,
    seed: int = LATENCY_SEED,
) -> ReplayComparison:
    """Replay ``session_id`` (default: the latest) of ``state_dir``'s journal, drawing
    order latencies from the session's measured ones with ``seed`` (``measured_latency``,
    the default) or with the config's constants.

    NoJournalError, KeyError (no such session), NotReplayableError, or the backtest's
    RecordingError / EmptyRecordingError for a recording that cannot be replayed.
    """
    with session_journal(state_dir, session_id) as (journal, chosen):
        record = journal.session(chosen)
        inputs = read_replay_inputs(journal, chosen)
        config, instruments, record_dir = _replay_terms(record, inputs)
        coins = tuple(instrument.coin for instrument in instruments)
        live = summary_document(report_figures(journal, chosen))
        # Paper orders never reached the venue: its recording holds only the market.
        own = (
            own_orders_of(journal, chosen, coins=coins)
            if record.mode == "live"
            else OwnOrders([], ())
        )
        latency = (
            session_latency(journal, chosen, config.paper, seed=seed) if measured_latency else None
        )
        live_wait = average_queue_wait(journal, chosen)
        live_coins = coin_documents(journal, chosen, coins) if len(coins) > 1 else {}
    with _removed_if_it_fails(prefix=f"makerd-replay-{chosen}-") as replay_dir:
        recording = replay_dir / "session.gz"
        lines = cut_session_lines(record_dir, record, recording)
        missing = coins_without_books([recording], coins) if lines else ()
        if missing:
            raise NotReplayableError(
                f"the recording in {record_dir} holds no book of {', '.join(missing)} between "
                f"session {chosen}'s start and its end: nothing of it to replay"
            )
        result = run_replay(
            config,
            [recording],
            instrument=instruments,
            state_dir=replay_dir,
            own=own,
            latency=latency,
        )
        with Journal(replay_dir / JOURNAL_NAME) as replay_journal:
            replay_id = result.run.session_id
            replay = summary_document(report_figures(replay_journal, replay_id))
            replay_wait = average_queue_wait(replay_journal, replay_id)
            replay_coins = (
                coin_documents(replay_journal, replay_id, coins) if len(coins) > 1 else {}
            )
        return ReplayComparison(
            live={**live, QUEUE_WAIT_KEY: live_wait},
            replay={**replay, QUEUE_WAIT_KEY: replay_wait},
            replay_state_dir=replay_dir,
            lines=lines,
            own=own,
            latency=constant_latency(config.paper) if latency is None else latency.statement,
            coins={coin: (live_coins[coin], replay_coins[coin]) for coin in live_coins},
        )


@contextmanager
def _removed_if_it_fails(*, prefix: str) -> Iterator[Path]:
    """A new temporary directory for the replay, kept for the user to read only when the
    replay succeeds: each refused or failed one left a directory behind."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise


def own_orders_of(journal: Journal, session_id: int, *, coins: tuple[str, ...] = ()) -> OwnOrders:
    """The session's own resting orders and fills, to take out of its recording.

    ``coins``: the session's coins in its config's order, whose client-id lanes say whose
    book each order rested in (with one coin, every order is that coin's)."""
    changes = journal.own_orders.own_order_changes(session_id)
    trade_ids = (fill.trade_id for fill in journal.session_fills(session_id))
    coin_of_cloid = partial(coin_of_lane, coins) if len(coins) > 1 else None
    return OwnOrders(changes, trade_ids, coin_of_cloid=coin_of_cloid)


def _replay_terms(
    record: SessionRecord, inputs: ReplayInputs
) -> tuple[MakerdConfig, tuple[Instrument, ...], Path]:
    """The session's config (recording off), its coins' recorded rules, its recording."""
    if record.mode not in REPLAYABLE_MODES:
        raise NotReplayableError(
            f"session {record.id} is a {record.mode} session: only live and paper sessions "
            "record the market they traded"
        )
    if inputs.config is None or inputs.record_dir is None:
        raise NotReplayableError(
            f"session {record.id} did not record its market stream (feed.record_dir was not "
            "set, or the makerd that ran it did not keep its config)"
        )
    try:
        config = parse_config(inputs.config, source=f"session {record.id}'s config")
    except ConfigError as error:
        raise NotReplayableError(str(error)) from None
    config = dataclasses.replace(config, feed=dataclasses.replace(config.feed, record_dir=None))
    try:
        instruments = tuple(
            load_rules(inputs.record_dir / RULES_NAME, spec.coin) for spec in config.coin_specs()
        )
    except RulesFileError as error:
        raise NotReplayableError(f"the instrument's rules: {error}") from None
    return config, instruments, inputs.record_dir


def cut_session_lines(record_dir: Path, session: SessionRecord, out: Path) -> int:
    """Copy the lines of ``session``'s coin (or coins) stamped within its span into ``out``
    (gzip).

    A recording directory holds every run's files; a file whose period starts after the
    session ended is not opened. Returns how many lines were copied.
    """
    ended_ns = session.ended_ns if session.ended_ns is not None else 2**63
    label = file_label(tuple(session.coin.split(COIN_SEPARATOR)))
    copied = 0
    with gzip.open(out, "wt", encoding="utf-8") as sink:
        for path in sorted(record_dir.glob(f"{label}_*.gz*")):
            starts_ns = _period_start_ns(path)
            if starts_ns is None or starts_ns > ended_ns:
                continue
            with gzip.open(path, "rt", encoding="utf-8", errors="replace") as source:
                for line in _complete_lines(source):
                    stamp = line.partition(" ")[0]
                    if stamp.isdigit() and session.started_ns <= int(stamp) <= ended_ns:
                        sink.write(line)
                        copied += 1
    return copied


def _complete_lines(source: TextIO) -> Iterator[str]:
    """The file's lines, stopping quietly where an unfinished ``.part`` file is cut."""
    try:
        for line in source:
            if line.endswith("\n"):
                yield line
    except EOFError:
        return  # an unfinished .part: everything before the cut is kept


def _period_start_ns(path: Path) -> int | None:
    match = _STAMP.search(path.name)
    if match is None:
        return None
    day, hour, minutes = match.groups()
    start = datetime.strptime(day + hour + (minutes or "0000"), "%Y%m%d%H%M%S")
    return int(start.replace(tzinfo=UTC).timestamp()) * _NS_PER_S
