"""Restarts: kill -9 with fills in the downtime, orphans behind a rate limit, a second
process on the same state directory, and a venue that is not there yet at start."""

from __future__ import annotations

import random
import re
import signal
import socket
import threading
import time
from pathlib import Path

from makerd.daemon.exit_codes import EXIT_LOCKED, EXIT_OK, EXIT_TEMPFAIL
from tests.faults.kit import QUOTE_BOUND, FaultVenue, LiveBot, assert_invariants, cycles, poll
from tests.processes import MakerdProcess

CI_KILL_CYCLES = 4


def test_kill_9_at_random_moments_with_fills_in_the_downtime_loses_no_fill(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue)
    rng = random.Random(20261206)
    swept = 0
    pause = threading.Event()
    for cycle in range(cycles(CI_KILL_CYCLES)):
        process = bot.start()
        bot.wait_resting(process, at_least=2)
        pause.wait(rng.uniform(0.0, 3.0))
        bot.kill_9(process)
        # While no makerd runs, a taker sweeps one side (alternating, so the position stays
        # inside its limits): the next run must book these fills, once, marked late.
        side = "buy" if cycle % 2 == 0 else "sell"
        swept += int(str(venue.fault(sweep={"user": bot.address, "side": side})["swept"]))
    last = bot.start()
    bot.wait_resting(last, at_least=2)
    code = bot.stop(last)

    assert code == EXIT_OK, last.text[-3000:]
    record = assert_invariants(bot, output=last.text)
    print(
        f"{len(bot.exits) - 1} kill -9 cycles: {swept} orders swept while makerd was down; "
        f"fills venue {len(record.trade_ids)}, journal {len(bot.journal_trade_ids())}; "
        f"most orders resting at once {record.peak_open_orders}"
    )
    assert swept >= 1, "no fill was made while makerd was down: the scenario proved nothing"
    assert len(record.trade_ids) >= swept


def test_orphans_behind_a_rate_limit_are_cancelled_before_any_new_quote(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue)
    first = bot.start()
    bot.wait_resting(first, at_least=QUOTE_BOUND)
    bot.kill_9(first)
    restart_ms = time.time_ns() // 1_000_000
    # Every action is refused for 3 s, the orphans' cancel among them: it must be retried.
    venue.fault(rate_limit_for_s=3.0, rate_limit_kind="address")

    second = bot.start()
    poll(
        lambda: bool(bot.record().actions_after(restart_ms + 3000, "order")),
        timeout_s=40,
        what="quoting again after the rate limit",
    )
    code = bot.stop(second)

    assert code == EXIT_OK, second.text[-3000:]
    record = assert_invariants(bot, output=second.text)
    accepted = [a for a in record.actions if a["accepted"] and int(str(a["time_ms"])) > restart_ms]
    first_cancel = next(
        i for i, a in enumerate(accepted) if a["type"] in ("cancel", "cancelByCloid")
    )
    first_order = next(i for i, a in enumerate(accepted) if a["type"] == "order")
    assert first_cancel < first_order, "new quotes went out before the orphans were cancelled"


def test_a_second_makerd_on_the_same_state_directory_refuses_at_once(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue)
    first = bot.start()
    bot.wait_resting(first)

    second = bot.start()
    second_code = second.finish(timeout=30)
    still_quoting = first.proc.poll() is None
    code = bot.stop(first)

    assert second_code == EXIT_LOCKED, second.text
    assert "in use by makerd pid" in second.text
    assert "Traceback" not in second.text
    assert still_quoting
    assert code == EXIT_OK
    assert_invariants(bot, output=first.text)


def test_errors_and_resets_at_start_are_retried_not_called_invalid(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue)
    venue.fault(http_error_next=2, http_error_status=503, reset_next=1)
    # Longer than the three failures' backoff (0.5 + 1 + 2 s), so the fourth attempt meets
    # it: a request spoiled by a reset or an error never reaches the rate limit.
    venue.fault(rate_limit_for_s=6.0, rate_limit_kind="ip")

    process = bot.start()
    bot.wait_resting(process, timeout_s=40)
    bot.stop_cleanly(process)

    unreachable = re.findall(r"event=venue_unreachable_at_start .*", process.text)
    assert any("429" in line for line in unreachable), unreachable


def nowhere_bot(tmp_path: Path, start_retry_s: float) -> LiveBot:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nobody listens once the probe closes
    nowhere = FaultVenue(f"http://127.0.0.1:{closed_port}")
    return LiveBot(tmp_path, nowhere, hyperliquid={"start_retry_s": start_retry_s})


def test_a_venue_that_never_answers_at_start_is_a_temporary_failure(tmp_path: Path) -> None:
    bot = nowhere_bot(tmp_path, start_retry_s=3.0)

    process: MakerdProcess = bot.start()
    code = process.finish(timeout=60)

    assert code == EXIT_TEMPFAIL, process.text
    assert "Traceback" not in process.text


def test_a_stop_asked_while_the_venue_is_retried_at_start_is_a_stop_not_a_failure(
    tmp_path: Path,
) -> None:
    # Before, the stop ended the retries as if they had run out: exit 75, which launchd
    # (and systemd's Restart=on-failure outside a stop job) answers by starting makerd again.
    bot = nowhere_bot(tmp_path, start_retry_s=120.0)
    process: MakerdProcess = bot.start()
    process.wait_for(r"event=venue_unreachable_at_start")

    process.signal(signal.SIGTERM)
    code = process.finish(timeout=30)

    assert code == EXIT_OK, process.text
    assert "stopped before the venue answered" in process.text
    assert "Traceback" not in process.text
