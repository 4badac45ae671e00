"""Nonces after a step back of the host's clock: above every nonce the signer used before.

Against the local venue, which keeps each signer's 100 highest nonces and refuses one
below the smallest of them, as the exchange does. A signer's earlier nonces are signed on
a clock ten minutes fast; the next "run" signs on the right clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account import Account

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.nonces import (
    FLOOR_MARGIN_MS,
    RESERVE_AHEAD_MS,
    NonceReservation,
    NonceSource,
    refused_floor,
)
from makerd.venues.hyperliquid.rate_budget import Priority, RateBudget
from makerd.venues.hyperliquid.requests import SignedSender
from makerd.venues.hyperliquid.rest import RestClient
from makerd.venues.hyperliquid.secrets import PrivateKey
from makerd.venues.hyperliquid.signing import L1Signer

MS = 1_000_000
STEP_NS = 600_000 * MS
STORED_NONCES = 100


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=7, tick_interval_s=0.5))
    url = venue.start()
    yield url
    venue.stop()


def fast_clock() -> int:
    return time.time_ns() + STEP_NS


Run = tuple[Callable[[], NonceSource], int]


def noops(url: str, key: str, runs: list[Run]) -> list[list[str | None]]:
    """For each (nonces, count) in turn, a sender started then and its ``count`` noops:
    each one's refusal text, or ``None`` when accepted."""

    async def run() -> list[list[str | None]]:
        rest = RestClient(url, RateBudget(weight_per_minute=100_000), timeout_s=5.0)
        await rest.open()
        signer = L1Signer(PrivateKey.from_hex(key, source="test"))
        answers: list[list[str | None]] = []
        try:
            for nonces, count in runs:
                sender = SignedSender(
                    rest=rest,
                    signer=signer,
                    is_mainnet=False,
                    vault_address=None,
                    settle=lambda: None,
                    nonces=nonces(),
                )
                answers.append([])
                for _ in range(count):
                    answer = await sender.send({"type": "noop"}, items=1, priority=Priority.CANCEL)
                    assert answer is not None, "an answer lost on loopback"
                    error = answer.error
                    answers[-1].append(None if error is None else error.message)
        finally:
            await rest.close()
        return answers

    return asyncio.run(run())


def reservation(state: Path) -> NonceReservation:
    return NonceReservation(state, "0xabc")


def test_a_run_after_a_step_back_of_the_clock_signs_above_the_last_runs_nonces(
    venue_url: str, tmp_path: Path
) -> None:
    key = Account.create().key.hex()
    state = tmp_path / "state"

    last_run, this_run = noops(
        venue_url,
        key,
        [
            (lambda: NonceSource(fast_clock, reservation(state)), STORED_NONCES + 5),
            (lambda: NonceSource(time.time_ns, reservation(state)), 3),
        ],
    )

    assert set(last_run) == {None}
    assert this_run == [None, None, None]


def test_without_the_state_directory_one_action_is_refused_and_the_next_goes_above_the_floor(
    venue_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = Account.create().key.hex()

    with caplog.at_level(logging.WARNING, logger="makerd.venue.nonces"):
        _, this_run = noops(
            venue_url,
            key,
            [
                (lambda: NonceSource(fast_clock, reservation(tmp_path / "a")), STORED_NONCES + 5),
                (lambda: NonceSource(time.time_ns, reservation(tmp_path / "b")), 4),
            ],
        )

    first, *rest = this_run
    assert first is not None, this_run
    assert first.startswith("Invalid nonce: nonce too low"), this_run
    assert rest == [None, None, None]
    assert "event=nonce_floor_learned" in caplog.text


def test_the_reservation_covers_every_nonce_used_and_is_written_once_per_window(
    tmp_path: Path,
) -> None:
    now = [1_800_000_000_000 * MS]
    writes: list[int] = []

    class Counted(NonceReservation):
        def extend(self, to: int) -> None:
            writes.append(to)
            super().extend(to)

    nonces = NonceSource(lambda: now[0], Counted(tmp_path, "0xabc"))
    used = []
    for _ in range(3000):  # 30 s of a nonce every 10 ms
        used.append(nonces.next())
        now[0] += 10 * MS

    on_disk = int((tmp_path / "hl-nonces-0xabc").read_text())
    assert max(used) <= on_disk <= max(used) + RESERVE_AHEAD_MS
    assert len(writes) == 3


@pytest.mark.parametrize("text", ["", "12ab\n", "\xff\xfe"])
def test_an_unreadable_reservation_starts_from_the_clock_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    (tmp_path / "hl-nonces-0xabc").write_text(text, encoding="latin-1")
    clock_ms = 1_800_000_000_000

    with caplog.at_level(logging.WARNING, logger="makerd.venue.nonces"):
        first = NonceSource(lambda: clock_ms * MS, reservation(tmp_path)).next()

    assert first == clock_ms
    assert "event=nonce_reservation_unreadable" in caplog.text


def test_a_reservation_that_cannot_be_written_is_logged_and_signing_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")

    with caplog.at_level(logging.ERROR, logger="makerd.venue.nonces"):
        nonces = NonceSource(lambda: 5 * MS, NonceReservation(blocked, "0xabc"))
        signed = [nonces.next(), nonces.next()]

    assert signed == [5, 6]
    assert "event=nonce_reservation_not_written" in caplog.text


@pytest.mark.parametrize(
    ("message", "floor"),
    [
        ("Invalid nonce: nonce too low 1000 < 2000", 2000 + FLOOR_MARGIN_MS),
        ("Invalid nonce: duplicate nonce 3000", 3000),
        ("Insufficient margin to place order.", None),
        ("Invalid nonce: nonce too high 9 > 5", None),
    ],
)
def test_only_a_nonce_refusal_moves_the_floor(message: str, floor: int | None) -> None:
    assert refused_floor(message) == floor


def test_a_learned_floor_never_moves_nonces_back() -> None:
    clock: Callable[[], int] = lambda: 100 * MS  # noqa: E731
    nonces = NonceSource(clock)
    nonces.refused_below(500)
    nonces.refused_below(300)
    assert nonces.next() == 501


def test_a_reservation_beyond_the_exchanges_future_window_is_ignored_and_replaced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Written by a run on a clock two days fast: the exchange refused those nonces as too
    # high and holds none of them. Starting above them would be refused the same way.
    clock_ms = 1_800_000_000_000
    (tmp_path / "hl-nonces-0xabc").write_text(f"{clock_ms + 2 * 86_400_000}\n")

    with caplog.at_level(logging.WARNING, logger="makerd.venue.nonces"):
        first = NonceSource(lambda: clock_ms * MS, reservation(tmp_path)).next()

    assert first == clock_ms
    assert int((tmp_path / "hl-nonces-0xabc").read_text()) == clock_ms + RESERVE_AHEAD_MS
    assert "event=nonce_reservation_ignored" in caplog.text


def test_a_reservation_within_the_window_is_kept_however_far_ahead(tmp_path: Path) -> None:
    clock_ms = 1_800_000_000_000
    hours_ahead = clock_ms + 20 * 3_600_000  # a host twenty hours fast, put right
    (tmp_path / "hl-nonces-0xabc").write_text(f"{hours_ahead}\n")

    assert NonceSource(lambda: clock_ms * MS, reservation(tmp_path)).next() == hours_ahead + 1
