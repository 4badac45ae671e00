"""A second stop signal on the heels of the first, on makerd in live mode (local venue)."""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_OK, EXIT_ORDERS_LEFT
from makerd.daemon.metrics_http import MAX_LINGER_S
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.processes import MakerdProcess, write_config
from tests.test_e2e_notify import receive_until
from tests.test_hl_live_e2e import Trader, order_ids, resting
from tests.test_redteam5_ops_ready import an_orphan


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    thread = VenueThread(VenueConfig(port=0, auto_provision=True, seed=31, tick_interval_s=0.1))
    thread.start()
    yield thread
    thread.stop()


def test_sigint_then_sigterm_still_sweeps_the_venue_once_and_says_what_it_confirmed(
    tmp_path: Path, venue: VenueThread
) -> None:
    trader = Trader(tmp_path, venue.url, dead_man_s=0)  # no dead-man switch to clean up
    makerd = trader.start(tmp_path)
    resting(trader, makerd)
    # Placed by someone else while makerd quotes: only the stop's sweep cancels it.
    stranger = an_orphan(trader)

    # Two different signals, so the kernel cannot merge them into one: the second says
    # "hurry up": wait no longer than the sweep's first answer.
    makerd.signal(signal.SIGINT)
    makerd.signal(signal.SIGTERM)
    code = makerd.finish()

    # The first round's answer is all it waits for: 0 if the venue said so, or 82 when
    # a quote still on its way kept the venue's count from reading 0.
    confirmed = "venue confirms 0 open orders" in makerd.text
    assert (code, confirmed) in {(EXIT_OK, True), (EXIT_ORDERS_LEFT, False)}, makerd.text
    assert stranger not in order_ids(trader), "the sweep never went out"
    assert not confirmed or trader.open_orders() == []


def test_a_stop_tells_systemd_how_long_it_may_take(tmp_path: Path) -> None:
    # A stop budget above the unit's TimeoutStopSec (30 s): without word from makerd,
    # systemd would SIGKILL the stop before the venue confirmed and the journal closed.
    config = write_config(tmp_path / "sim.yaml", {"stop_timeout_s": 40})
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        makerd = MakerdProcess(
            [
                *("run", "--config", str(config), "--state-dir", str(tmp_path / "state")),
                *("--metrics-port", "0"),
            ],
            cwd=tmp_path,
            env={"NOTIFY_SOCKET": str(path)},
        )
        seen: list[bytes] = []
        receive_until(sock, b"READY=1", seen, timeout=30)
        makerd.signal(signal.SIGTERM)
        code = makerd.finish()
        sock.settimeout(0)
        with contextlib.suppress(BlockingIOError):
            while True:
                seen.append(sock.recv(4096))

    assert code == EXIT_OK, makerd.text
    stopping = next(i for i, datagram in enumerate(seen) if b"STOPPING=1" in datagram)
    extended = [
        int(datagram.removeprefix(b"EXTEND_TIMEOUT_USEC="))
        for datagram in seen[stopping:]
        if datagram.startswith(b"EXTEND_TIMEOUT_USEC=")
    ]
    assert extended, "the stop never asked systemd for more than TimeoutStopSec"
    assert max(extended) >= 40 * 1_000_000 + int(MAX_LINGER_S * 1_000_000)
