"""READY=1 is what `systemctl start` waits for: it must mean "reconciled and quoting".

makerd in live mode against the local venue, with a previous run's order resting (an
orphan) whose first cancels the venue refuses, so reconciliation takes seconds. The
sd_notify datagrams are read on a real unix socket, as systemd would read them.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange

from makerd.daemon.exit_codes import EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.local_venue_kit import an_order, arm
from tests.processes import MakerdProcess
from tests.test_hl_live_e2e import Trader, order_ids


@pytest.fixture(scope="module")
def venue() -> Iterator[VenueThread]:
    thread = VenueThread(VenueConfig(port=0, auto_provision=True, seed=29, tick_interval_s=0.1))
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, Path]]:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        yield sock, path


def an_orphan(trader: Trader) -> int:
    """An order of the account that makerd did not place: a previous run's, say."""
    answer = an_order(Exchange(Account.from_key(trader.key), trader.url))
    return int(answer["response"]["data"]["statuses"][0]["resting"]["oid"])


def start_over_an_orphan(
    venue: VenueThread, tmp_path: Path, notify_path: Path
) -> tuple[MakerdProcess, Trader, int]:
    """makerd on an account with an orphan whose first cancels the venue refuses."""
    trader = Trader(tmp_path, venue.url, dead_man_s=0)
    orphan = an_orphan(trader)
    # The first three cancels (they go at once, on the reports that open the run) are
    # refused: the orphan rests through a second or more of retry backoff.
    arm(venue, clear=True, reject_next=3, reject_action_type="cancel")
    args = ["run", "--config", str(trader.config), "--api-url", trader.url]
    args += ["--state-dir", str(trader.state), "--metrics-port", "0"]
    env = {"MAKERD_PRIVATE_KEY": trader.key, "NOTIFY_SOCKET": str(notify_path)}
    return MakerdProcess(args, cwd=tmp_path, env=env), trader, orphan


def orphan_at_ready(sock: socket.socket, trader: Trader, orphan: int) -> bool:
    """Wait for READY=1; whether the orphan still rested at the venue when it came."""
    sock.settimeout(30)
    while b"READY=1" not in sock.recv(4096):
        pass
    return orphan in order_ids(trader)


def stop(makerd: MakerdProcess, venue: VenueThread) -> int:
    makerd.signal(signal.SIGTERM)
    code = makerd.finish()
    arm(venue, clear=True)
    return code


def test_ready_is_sent_only_once_the_venues_orders_are_reconciled(
    tmp_path: Path, venue: VenueThread, notify_socket: tuple[socket.socket, Path]
) -> None:
    sock, path = notify_socket
    makerd, trader, orphan = start_over_an_orphan(venue, tmp_path, path)

    still_resting = orphan_at_ready(sock, trader, orphan)

    assert stop(makerd, venue) == EXIT_OK, makerd.text
    assert not still_resting, "READY=1 came while an order makerd had not cancelled rested"


def test_a_reload_before_ready_does_not_make_the_service_ready(
    tmp_path: Path, venue: VenueThread, notify_socket: tuple[socket.socket, Path]
) -> None:
    sock, path = notify_socket
    makerd, trader, orphan = start_over_an_orphan(venue, tmp_path, path)
    makerd.metrics_port()  # printed after the signal handlers are in place

    makerd.signal(signal.SIGHUP)
    makerd.wait_for("event=config_reload")
    still_resting = orphan_at_ready(sock, trader, orphan)

    assert stop(makerd, venue) == EXIT_OK, makerd.text
    assert not still_resting, "a SIGHUP made the service READY before it was reconciled"
