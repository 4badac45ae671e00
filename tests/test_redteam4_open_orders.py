"""``makerd_open_orders`` and ``makerd ctl status`` count what rests, across order_manager
restarts.

An order_manager that crashes never says that an order of its own was filled: the fill
comes to the fill tracker, and the order's last state change, "open", stayed in the count
for the rest of the run. With the order_manager crashing while its quotes were being
filled, a paused makerd (the venue listing nothing) went on reporting a dozen open orders,
more than it ever quotes: a stuck gauge that hides "not quoting" from MakerdNotQuoting.
"""

from __future__ import annotations

import re
import signal
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

from prometheus_client import CollectorRegistry

from makerd.daemon.metrics import Metrics
from makerd.daemon.observer import Observer
from makerd.protocol.orders import OpenOrdersReported, OrderStateChanged, OrderStatus
from makerd.protocol.side import Side
from tests.ctl_kit import ctl, status
from tests.processes import MakerdProcess, write_config


def open_orders_metric(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
        text = page.read().decode()
    return sum(float(v) for v in re.findall(r"^makerd_open_orders\{[^}]*\} (\S+)$", text, re.M))


def test_orders_of_a_crashed_order_manager_leave_the_count_once_the_venue_lists_none(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    config = write_config(
        tmp_path / "drill.yaml",
        {
            "faults": {"crash_role": "order_manager", "crash_every_s": 0.5},
            "supervisor": {"max_restarts": 200, "period_s": 60},
            "sim": {"scenario": "volatile"},
            "quoting": {"first_level_bps": 0.5, "level_spacing_bps": 0.5},
        },
    )
    args = ["run", "--config", str(config), "--state-dir", str(state), "--metrics-port", "0"]
    makerd = MakerdProcess([*args, "--duration", "20"], cwd=tmp_path)
    port = makerd.metrics_port()
    makerd.wait_for(r"fills=[1-9]\d* .*restarts=(1\d|[2-9]\d)", timeout=20)
    assert ctl(state, "pause").code == 0

    deadline = time.monotonic() + 4
    while True:
        seen, gauge = status(state)["open_orders"], open_orders_metric(port)
        if (seen["venue"], seen["makerd"], gauge) == (0, 0, 0) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    makerd.signal(signal.SIGTERM)
    makerd.finish()

    assert seen["venue"] == 0, seen
    assert (seen["makerd"], gauge) == (0, 0), f"{seen}, makerd_open_orders={gauge}"


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000

    def now_ns(self) -> int:
        return self.now


def test_a_venue_report_that_lists_an_open_order_no_more_takes_it_off_the_gauge() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry, venue="sim", symbol="BTC", process_collectors=False)
    clock = _Clock()
    observer = Observer(metrics=metrics, clock=clock)
    for cloid in ("0xa", "0xb"):
        observer(
            OrderStateChanged(
                cloid=cloid,
                coin="BTC",
                side=Side.BUY,
                status=OrderStatus.OPEN,
                price=Decimal(100),
                size=Decimal(1),
                ts_local=clock.now,
            )
        )
    clock.now = 2_000
    observer(OpenOrdersReported(coin="BTC", orders=(), ts_exchange=2_000, ts_local=2_000))

    assert (
        registry.get_sample_value(
            "makerd_open_orders", {"venue": "sim", "symbol": "BTC", "side": "buy"}
        )
        == 0
    )
    assert observer.snapshot().open_orders == 0
