"""A real Prometheus scraping a running makerd, and one alert rule evaluated end to end."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from makerd.daemon.exit_codes import EXIT_KILL_SWITCH
from tests.processes import MakerdProcess, write_config
from tests.prometheus_kit import Prometheus, eventually, free_port, needs_prometheus

pytestmark = needs_prometheus


@pytest.fixture
def makerd(tmp_path: Path) -> Iterator[MakerdProcess]:
    config = write_config(tmp_path / "makerd.yaml", {"status_interval_s": 0.5})
    process = MakerdProcess(
        [
            *("run", "--config", str(config), "--state-dir", str(tmp_path / "state")),
            *("--metrics-port", "0"),
        ],
        cwd=tmp_path,
    )
    yield process
    if process.proc.poll() is None:
        process.signal(signal.SIGTERM)
        process.finish()


@pytest.fixture
def prometheus_for(tmp_path: Path) -> Iterator[list[Prometheus]]:
    started: list[Prometheus] = []
    yield started
    for server in started:
        server.stop()


def scraped_up(prometheus: Prometheus) -> list[dict[str, Any]] | None:
    result = prometheus.query('up{job="makerd"} == 1')
    return result or None


def test_prometheus_scrapes_makerd_and_stores_its_series(
    makerd: MakerdProcess, prometheus_for: list[Prometheus], tmp_path: Path
) -> None:
    port = makerd.metrics_port()
    makerd.wait_for(r"state=normal")
    prometheus = Prometheus(tmp_path, [f"127.0.0.1:{port}"])
    prometheus_for.append(prometheus)

    eventually(lambda: scraped_up(prometheus), timeout_s=60, what="a successful scrape")
    names = set(prometheus.api("label/__name__/values"))
    position = prometheus.query('makerd_position{job="makerd"}')
    actors = prometheus.query('makerd_actor_up{job="makerd"}')

    assert {"makerd_fills_total", "makerd_tick_to_quote_seconds_bucket"} <= names
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total"} <= names
    assert [series["metric"]["symbol"] for series in position] == ["BTC"]
    assert {series["metric"]["actor"] for series in actors} == {
        "fill_tracker",
        "risk_guardian",
        "order_manager",
        "quoter",
        "book_feed",
        "watchdog",
    }
    assert all(series["value"][1] == "1" for series in actors)
    # A healthy bot trips none of the alerts that watch for trouble right now.
    firing = [
        alert["labels"]["alertname"]
        for alert in prometheus.api("alerts")["alerts"]
        if alert["labels"]["alertname"] in {"MakerdActorDown", "MakerdFeedDisconnected"}
    ]
    assert firing == []


def kill_switch_alert(prometheus: Prometheus) -> dict[str, Any] | None:
    for alert in prometheus.api("alerts")["alerts"]:
        if alert["labels"]["alertname"] == "MakerdKillSwitchTripped":
            return dict(alert)
    return None


def test_a_kill_switch_tripped_in_sim_raises_the_kill_switch_alert(
    prometheus_for: list[Prometheus], tmp_path: Path
) -> None:
    # Prometheus first, already scraping the port makerd will use: the trip comes about a
    # second after start (a volatile market, and a drawdown limit a few fills' fees exceed).
    port = free_port()
    prometheus = Prometheus(tmp_path, [f"127.0.0.1:{port}"])
    prometheus_for.append(prometheus)
    # Target discovery reaches the scrape loop a few seconds after start: wait until the
    # target has been tried (up == 0: nothing listens yet).
    eventually(
        lambda: prometheus.query('up{job="makerd"}') or None,
        timeout_s=60,
        what="a first scrape attempt",
    )
    config = write_config(
        tmp_path / "tight.yaml",
        {
            "sim": {"scenario": "volatile"},
            "quoting": {"first_level_bps": 1},
            "risk": {"max_drawdown_usd": 0.05},
        },
    )
    makerd = MakerdProcess(
        [
            *("run", "--config", str(config), "--state-dir", str(tmp_path / "state")),
            *("--metrics-port", str(port), "--duration", "120"),
        ],
        cwd=tmp_path,
    )
    code = makerd.finish(timeout=150)
    alert = eventually(
        lambda: kill_switch_alert(prometheus), timeout_s=60, what="MakerdKillSwitchTripped"
    )
    tripped = prometheus.query(
        'max_over_time(makerd_kill_switch_trips_total{job="makerd"}[5m]) > 0'
    )

    assert code == EXIT_KILL_SWITCH, makerd.text
    assert "event=kill_switch_tripped reason=max_drawdown" in makerd.text
    assert alert["state"] in {"pending", "firing"}
    assert alert["labels"]["severity"] == "critical"
    assert alert["labels"]["symbol"] == "BTC"
    assert alert["labels"]["venue"] == "sim"
    assert "clear-kill-switch" in alert["annotations"]["runbook"]
    assert [series["metric"]["reason"] for series in tripped] == ["max_drawdown"]
