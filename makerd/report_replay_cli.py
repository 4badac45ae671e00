"""The printed side of ``makerd report --session N --replay``: both summaries, the divergence."""

from __future__ import annotations

import sys
from pathlib import Path

from makerd.exit_codes import EXIT_FAILURE, EXIT_OK
from makerd.report_compare import format_comparison
from makerd.report_replay import NotReplayableError, compare_with_replay
from makerd.sessions import NoJournalError
from venues.replay.errors import RecordingError
from venues.replay.venue import EmptyRecordingError


def report_replay(state_dir: Path, session_id: int | None) -> int:
    try:
        comparison = compare_with_replay(state_dir, session_id)
    except (NoJournalError, KeyError, NotReplayableError, RecordingError) as error:
        print(f"makerd: report --replay: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except EmptyRecordingError:
        print("makerd: report --replay: the session's recording holds no data", file=sys.stderr)
        return EXIT_FAILURE
    live, replay = comparison.live, comparison.replay
    print(
        f"session {live['session']} ({live['mode']}) against its replay: "
        f"{comparison.lines} recorded lines; the replay's journal is in "
        f"{comparison.replay_state_dir} (session {replay['session']})"
    )
    print(format_comparison(live, replay, names=(str(live["mode"]), "replay")))
    return EXIT_OK
