"""A disk that fills while a taker sweeps the ladder: makerd stops (exit 81, orders
cancelled, the kill switch latched all the same), and the next run, once the operator has
cleared the latch on a disk with room again, books every fill the full disk refused, once,
from the venue."""

from __future__ import annotations

import resource
import time
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_GAVE_UP, EXIT_OK
from tests.ctl_kit import makerd_cli
from tests.faults.kit import QUOTE_BOUND, FaultVenue, LiveBot, assert_invariants


def test_fills_the_full_disk_refused_are_booked_once_by_the_next_run(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue)
    first = bot.quoting()

    # Every write to a regular file now fails with EFBIG, as on a full disk.
    resource.prlimit(first.proc.pid, resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
    swept = int(str(venue.fault(sweep={"user": bot.address, "side": "buy"})["swept"]))
    started = time.monotonic()
    code = first.finish(timeout=60)
    bot.exits.append(code)
    stopped_after_s = time.monotonic() - started
    refused = set(bot.record().trade_ids) - set(bot.journal_trade_ids())
    cleared = makerd_cli("kill-switch", "clear", "--state-dir", str(bot.state))
    second = bot.start()
    bot.wait_resting(second, at_least=QUOTE_BOUND)
    last = bot.stop(second)

    assert code == EXIT_GAVE_UP, first.text[-3000:]
    assert stopped_after_s < 15, f"stopped only after {stopped_after_s:.1f} s"
    assert "event=state_write_failed" in first.text
    assert "cleared kill switch (reason=latched_on_full_disk" in cleared.stdout, cleared.stderr
    assert swept >= 1, "the sweep filled nothing: the scenario proved nothing"
    assert refused, "every fill reached the journal: the full disk refused none"
    assert last == EXIT_OK, second.text[-3000:]
    assert "event=fill_booked_late" in second.text
    assert_invariants(bot, output=second.text)
