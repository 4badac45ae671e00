"""The printed side of ``makerd report --session N --replay``: both summaries, the divergence."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from makerd.daemon.backtest_latency import LATENCY_SEED
from makerd.daemon.exit_codes import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK
from makerd.daemon.report_compare import comparison_document, format_comparison
from makerd.daemon.report_replay import NotReplayableError, ReplayComparison, compare_with_replay
from makerd.daemon.sessions import NoJournalError
from makerd.venues.replay.errors import RecordingError
from makerd.venues.replay.venue import EmptyRecordingError

COMPARISON_NAME = "comparison.json"


def report_replay(args: argparse.Namespace) -> int:
    """``makerd report`` with ``--replay``: ``--state-dir`` and ``--session`` say which."""
    if args.all or args.report_dir is not None:
        print("makerd: --replay takes neither --all nor --report-dir", file=sys.stderr)
        return EXIT_CONFIG
    if args.seed is not None and args.configured_latency:
        print(
            "makerd: --seed seeds the draws of the measured latencies; with "
            "--configured-latency nothing is drawn",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    seed = LATENCY_SEED if args.seed is None else args.seed
    try:
        comparison = compare_with_replay(
            args.state_dir, args.session, measured_latency=not args.configured_latency, seed=seed
        )
    except (NoJournalError, KeyError, NotReplayableError, RecordingError) as error:
        print(f"makerd: report --replay: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except EmptyRecordingError:
        print("makerd: report --replay: the session's recording holds no data", file=sys.stderr)
        return EXIT_FAILURE
    live, replay, own = comparison.live, comparison.replay, comparison.own
    print(
        f"session {live['session']} ({live['mode']}) against its replay: "
        f"{comparison.lines} recorded lines; the replay's journal is in "
        f"{comparison.replay_state_dir} (session {replay['session']})"
    )
    print(
        f"taken out of the recording: {own.trades_dropped} of our "
        f"{len(own.own_trade_ids)} fills from its trades, {own.size_removed.normalize():f} "
        f"of displayed size from its books ({own.order_changes} order changes journaled)"
    )
    print(f"replay order latency: {comparison.latency}")
    names = (str(live["mode"]), "replay")
    print(format_comparison(live, replay, names=names, coins=comparison.coins))
    print(f"wrote {_write_document(comparison, names)}")
    return EXIT_OK


def _write_document(comparison: ReplayComparison, names: tuple[str, str]) -> Path:
    """The printed comparison, as JSON, beside the replay's journal."""
    path = comparison.replay_state_dir / COMPARISON_NAME
    document = comparison_document(
        comparison.live, comparison.replay, names=names, coins=comparison.coins
    )
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
