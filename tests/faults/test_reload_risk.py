"""A risk setting changed by SIGHUP is the one in force at the stop: the reload says the
risk section applied at once, so a stop after it must do what the new section says."""

from __future__ import annotations

import signal
from decimal import Decimal
from pathlib import Path

import yaml

from makerd.daemon.exit_codes import EXIT_OK
from tests.faults.kit import FaultVenue, LiveBot, assert_invariants, poll

OPEN_POSITION = r"pos=-?0\.0*[1-9]"


def test_flatten_on_stop_turned_on_by_sighup_flattens_the_next_stop(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue)  # flatten_on_stop: false at start
    process = bot.quoting()
    venue.fault(sweep={"user": bot.address, "side": "buy"})  # a taker lifts every ask: short
    poll(lambda: bot.record().position != 0, timeout_s=10, what="a short position at the venue")
    process.wait_for(OPEN_POSITION)
    config = yaml.safe_load(bot.config.read_text(encoding="utf-8"))
    config["risk"] = {**config.get("risk", {}), "flatten_on_stop": True}
    bot.config.write_text(yaml.safe_dump(config), encoding="utf-8")
    process.signal(signal.SIGHUP)
    process.wait_for(r"event=config_reload result=applied")

    code = bot.stop(process)

    assert code == EXIT_OK, process.text[-3000:]
    record = assert_invariants(bot, output=process.text)
    assert record.position == Decimal(0), "the stop left the position open: " + process.text[-3000:]
