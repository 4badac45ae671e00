"""What every test gets: no makerd it started outlives it, and none takes port 9108; and
the local venue's client fixtures, for modules that start their own ``venue``."""

from __future__ import annotations

import socket
import warnings
from collections.abc import Iterator

import eth_account
import pytest
from eth_account.signers.local import LocalAccount
from hyperliquid.exchange import Exchange

from makerd.venues.hl_local import VenueThread
from tests.processes import STARTED


@pytest.fixture(autouse=True)
def no_makerd_outlives_its_test() -> Iterator[None]:
    """A test that fails part-way never stops its makerd. Left running against a venue that
    later tests share, it took their armed faults: a re-arm refusal meant for the next
    test's account went to the leftover process, and that test failed too."""
    first = len(STARTED)
    yield
    left = [process for process in STARTED[first:] if process.kill_if_running()]
    del STARTED[first:]
    if left:
        warnings.warn(f"killed {len(left)} makerd the test left running", stacklevel=1)


DEFAULT_METRICS_ADDRESS = ("127.0.0.1", 9108)


@pytest.fixture(scope="session", autouse=True)
def default_metrics_port_taken() -> Iterator[None]:
    """Hold makerd's default metrics port for the whole session, as an operator's makerd or
    another run of the suite would: a test whose ``makerd run`` binds 127.0.0.1:9108 fails
    here ("cannot serve metrics on 127.0.0.1:9108: Address already in use") instead of only
    on a machine where something else has it. Runs choose ``--metrics-port 0``
    (:func:`tests.processes.makerd_command` adds it). tests/test_systemd_real.py takes
    9108 inside its lab's own network namespace, which this does not reach."""
    try:
        held = socket.create_server(DEFAULT_METRICS_ADDRESS)
    except OSError:  # already taken (the other xdist worker, an operator's makerd): as good
        yield
        return
    with held:
        yield


@pytest.fixture
def wallet() -> LocalAccount:
    """A fresh key of its own for each test: the local venue funds it on its first action."""
    account: LocalAccount = eth_account.Account.create()
    return account


@pytest.fixture
def exchange(venue: VenueThread, wallet: LocalAccount) -> Exchange:
    """The SDK's ``Exchange`` signing as ``wallet`` against the module's own ``venue``
    fixture (each module picks its venue's seed)."""
    return Exchange(wallet, venue.url)
