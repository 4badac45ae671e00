"""What every test gets: no makerd it started outlives it."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

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
