"""A real ``makerd run`` through a step of its host's wall clock, against the local venue.

NTP steps a host's clock when it finds it far off (at boot, after a VM was resumed). The
step cannot be made on the machine the tests run on without stepping every other process
too, the venue (the exchange's clock) among them, so the makerd process alone reads a
stepped clock (:mod:`tests.faults.host_clock`).

Two steps, each as a host meets it:

- a host running a minute fast is put right (a step back of 60 s);
- a host in step with the exchange is put a minute ahead (a step forward of 60 s).

Through either, makerd must keep the dead-man switch armed, keep quoting, keep publishing
its marks (the loss limits judge them), trip no kill switch, and stop with nothing resting.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from pathlib import Path

import pytest

from tests.faults.host_clock import SteppedClock
from tests.faults.kit import (
    DEAD_MAN_S,
    QUOTE_BOUND,
    AccountRecord,
    FaultVenue,
    LiveBot,
    now_ms,
    poll,
)

STEP_S = 60
AFTER_STEP_S = 2.5 * DEAD_MAN_S
"""How long the run goes on after the step: the dead-man switch is re-armed twice."""


def equity_rows(bot: LiveBot) -> int:
    """How many states of the ledger the fill tracker has published (and journaled)."""
    with sqlite3.connect(bot.state / "journal.sqlite") as db:
        [(rows,)] = db.execute("SELECT COUNT(*) FROM equity")
    return int(rows)


def assert_armed_throughout(record: AccountRecord, since_ms: int) -> None:
    """The dead-man switch was re-armed before its window ran out, every time since."""
    arms = [int(str(a["time_ms"])) for a in record.actions_after(since_ms, "scheduleCancel")]
    gaps_s = [(later - earlier) / 1000 for earlier, later in itertools.pairwise(arms)]
    assert len(arms) >= 3, f"the dead-man switch was armed {len(arms)} times"
    assert max(gaps_s) < DEAD_MAN_S, f"a gap of {max(gaps_s):.1f} s let the switch fire"


@pytest.mark.parametrize(
    ("before_s", "after_s"),
    [(STEP_S, 0), (0, STEP_S)],
    ids=["a fast host put right (step back)", "a host put ahead (step forward)"],
)
def test_a_step_of_the_host_clock_leaves_makerd_armed_quoting_and_publishing(
    tmp_path: Path, venue: FaultVenue, before_s: int, after_s: int
) -> None:
    clock = SteppedClock(tmp_path, offset_s=before_s)
    bot = LiveBot(tmp_path, venue)
    process = bot.start(env=clock.env)
    bot.wait_resting(process, at_least=QUOTE_BOUND)
    # The user stream drops and the ladder's bids fill while it is down: the reconnect's
    # repair brings those fills, and lists the ladder, before the step. On a host a
    # minute fast the repair once asked from a minute after the start and the fills were
    # never booked; and the stop once took that listing's stale count for its answer.
    venue.fault(drop_stream="user")
    venue.fault(sweep={"user": bot.address, "side": "buy", "coin": "BTC"})
    time.sleep(3.0)  # the dead-man switch armed, the ladder settled, marks published

    published_before = equity_rows(bot)
    stepped_ms = now_ms()
    clock.set(after_s)
    time.sleep(AFTER_STEP_S)
    published = equity_rows(bot) - published_before
    record = bot.record()

    assert process.proc.poll() is None, process.text[-3000:]
    assert_armed_throughout(record, since_ms=stepped_ms - 15_000)
    after = record.actions_after(stepped_ms + 2_000, "order", "batchModify", "modify", "cancel")
    assert [a for a in after if not a["accepted"]] == [], "actions refused after the step"
    assert len(after) >= 5, "quoting stopped after the step"
    assert published >= AFTER_STEP_S / 2, (
        f"{published} marks published in {AFTER_STEP_S:.0f} s (one a second is due)"
    )
    assert "kill_switch" not in process.text, process.text[-3000:]
    if before_s > after_s:
        assert "event=clock_stepped" in process.text, "the watchdog did not say it"

    bot.stop_cleanly(process)


STORED_NONCES = 100
"""The exchange refuses a nonce below the smallest of a signer's 100 highest."""
FAR_STEP_S = 600
"""A step longer than the last run's 100 actions took, so its refusals would last."""


def test_a_makerd_restarted_after_a_step_back_of_its_clock_acts_at_once(
    tmp_path: Path, venue: FaultVenue
) -> None:
    clock = SteppedClock(tmp_path, offset_s=FAR_STEP_S)  # a host ten minutes fast
    bot = LiveBot(tmp_path, venue)
    first = bot.start(env=clock.env)
    bot.wait_resting(first, at_least=QUOTE_BOUND)
    poll(
        lambda: len(bot.record().actions) > STORED_NONCES,
        timeout_s=150,
        what=f"more than {STORED_NONCES} actions signed a minute ahead",
        process=first,
    )
    bot.kill_9(first)
    clock.set(0)  # put right while makerd was down: its nonces now read ten minutes old
    restart_ms = now_ms()
    second = bot.start(env=clock.env)

    # Its first actions cancel the orphans and arm the dead-man switch. Each nonce signed
    # below the last run's was refused, for as long as the step: minutes with no action.
    def acted() -> list[dict[str, object]]:
        return [a for a in bot.record().actions if int(str(a["time_ms"])) > restart_ms]

    poll(lambda: len(acted()) >= 3, timeout_s=30, what="three actions", process=second)
    refused = [a for a in acted() if not a["accepted"]]
    assert refused == [], f"refused after the restart: {refused}\n{second.text[-3000:]}"
    bot.wait_resting(second, at_least=QUOTE_BOUND, since_ms=restart_ms)
    bot.stop_cleanly(second)
