"""A stop that flattens keeps closing until the venue's position is 0: a refused or partly
filled closing order is followed by another, and a position still open is said out loud."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from makerd.actors.operator_hold import MAX_RATE_LIMITED_CLOSING
from makerd.daemon.exit_codes import EXIT_OK
from tests.faults.kit import FaultVenue, LiveBot, assert_invariants, now_ms
from tests.faults.test_flatten_left_open import paused_and_short


def test_a_flattening_stop_whose_first_closing_order_is_refused_still_ends_flat(
    venue: FaultVenue, tmp_path: Path
) -> None:
    bot = LiveBot(tmp_path, venue, risk={"flatten_on_stop": True})
    # Paused, makerd sends no order of its own: the refusal armed next hits the closing IOC.
    process = paused_and_short(bot, venue)
    armed_ms = now_ms()
    venue.fault(reject_next=1, reject_action_type="order", reject_text="Too many requests")

    code = bot.stop(process)

    assert code == EXIT_OK, process.text[-3000:]
    record = assert_invariants(bot, output=process.text)
    closing = [bool(a["accepted"]) for a in record.actions_after(armed_ms, "order")]
    assert closing[:1] == [False], f"the first closing order was not the refused one: {closing}"
    accepted_after_refusal = [ok for ok in closing[1:] if ok]
    assert accepted_after_refusal, f"no closing order accepted after the refused one: {closing}"
    assert record.position == Decimal(0), process.text[-3000:]
    assert "position_left_open" not in process.text


@pytest.mark.parametrize(
    "rate_limit",
    [
        pytest.param({"rate_limit_for_s": 4}, id="address budget for 4 s"),
        pytest.param({"rate_limit_next": 4, "rate_limit_http_429": True}, id="four bare 429s"),
    ],
)
def test_a_flattening_stop_waits_out_a_rate_limit_and_still_ends_flat(
    venue: FaultVenue, tmp_path: Path, rate_limit: dict[str, object]
) -> None:
    # Before: each refusal spent one of the three closing orders a second apart, all
    # inside the limit, and the stop ended 5 s in (of 20) with "position left open".
    bot = LiveBot(tmp_path, venue, risk={"flatten_on_stop": True})
    process = paused_and_short(bot, venue)
    armed_ms = now_ms()
    venue.fault(**rate_limit)

    code = bot.stop(process)

    assert code == EXIT_OK, process.text[-3000:]
    record = assert_invariants(bot, output=process.text)
    assert record.position == Decimal(0), process.text[-3000:]
    assert "position left open" not in process.text
    closing = record.actions_after(armed_ms, "order")
    refused = [a for a in closing if not a["accepted"]]
    assert len(refused) <= MAX_RATE_LIMITED_CLOSING, f"closing orders sent: {closing}"


def test_a_flattening_stop_whose_closing_order_is_held_past_its_expiry_still_ends_flat(
    venue: FaultVenue, tmp_path: Path
) -> None:
    # The closing order reaches the exchange 6 s late, after its expiresAfter: refused,
    # and until that answer makerd cannot know it did not trade. Its next closing order
    # went out about 11 s into the stop; the wait for flat used to end 5 s after the sweep.
    http = {"order_transport": "http"}
    bot = LiveBot(tmp_path, venue, risk={"flatten_on_stop": True}, hyperliquid=http)
    process = paused_and_short(bot, venue)
    venue.fault(delay_exchange_s=6, delay_for_s=1)

    code = bot.stop(process)

    assert code == EXIT_OK, process.text[-3000:]
    record = assert_invariants(bot, output=process.text)
    assert record.position == Decimal(0), process.text[-3000:]
    assert "position left open" not in process.text
