"""Metrics as Prometheus scrapes them: real HTTP on loopback, parsed by the client's parser."""

from __future__ import annotations

import math
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from makerd.daemon.metrics import Metrics, MetricsServer, serve_metrics
from makerd.daemon.metrics_http import bind_metrics
from makerd.protocol.rejections import RejectReason

EXPECTED_FAMILIES = {
    "makerd_config_reloads": "counter",
    "makerd_feed_connected": "gauge",
    "makerd_feed_reconnects": "counter",
    "makerd_rate_budget_weight_left": "gauge",
    "makerd_address_requests_left": "gauge",
    "makerd_fills_late": "counter",
    "makerd_fills_off_lot_grid": "counter",
    "makerd_position_mismatches": "counter",
    "makerd_dead_man_switch_armed": "gauge",
    "makerd_dead_man_switch_lost": "counter",
    "makerd_quotes_sent": "counter",
    "makerd_quotes_skipped": "counter",
    "makerd_orders_placed": "counter",
    "makerd_orders_modified": "counter",
    "makerd_orders_cancelled": "counter",
    "makerd_orders_rejected": "counter",
    "makerd_order_rule_errors": "counter",
    "makerd_open_orders": "gauge",
    "makerd_fills": "counter",
    "makerd_fill_quantity": "counter",
    "makerd_position": "gauge",
    "makerd_pnl_realized_usd": "gauge",
    "makerd_pnl_unrealized_usd": "gauge",
    "makerd_fees_paid_usd": "counter",
    "makerd_fee_rebates_usd": "counter",
    "makerd_quote_spread_ratio": "gauge",
    "makerd_mid_price_usd": "gauge",
    "makerd_tick_to_quote_seconds": "histogram",
    "makerd_order_ack_latency_seconds": "histogram",
    "makerd_feed_messages": "counter",
    "makerd_feed_messages_dropped": "counter",
    "makerd_feed_last_message_timestamp_seconds": "gauge",
    "makerd_feed_stale": "gauge",
    "makerd_actor_restarts": "counter",
    "makerd_actor_up": "gauge",
    "makerd_actor_mailbox_depth": "gauge",
    "makerd_supervisor_intensity_exceeded": "counter",
    "makerd_kill_switch_state": "gauge",  # an Enum is one 0/1 gauge per state in text format
    "makerd_kill_switch_trips": "counter",
    "makerd_trading_state": "gauge",
    "makerd_operator_paused": "gauge",
    "makerd_risk_limit_breaches": "counter",
    "makerd_risk_soft_actions": "counter",
    "makerd_margin_use_ratio": "gauge",
    "makerd_watchdog_last_ping_timestamp_seconds": "gauge",
    "makerd_risk_max_position": "gauge",
    "makerd_risk_max_drawdown_usd": "gauge",
    "makerd_risk_session_loss_limit_usd": "gauge",
    "makerd_build_info": "gauge",
}


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> Metrics:
    return Metrics(registry, venue="sim", symbol="BTC", version="1.2.3")


@pytest.fixture
def server(registry: CollectorRegistry, metrics: Metrics) -> Iterator[MetricsServer]:
    running = serve_metrics(registry, port=0)
    yield running
    running.shutdown()


def scrape(server: MetricsServer) -> dict[str, tuple[str, list[Sample]]]:
    url = f"http://127.0.0.1:{server.port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode("utf-8")
    return {
        family.name: (family.type, family.samples)
        for family in text_string_to_metric_families(text)
    }


def value_of(samples: list[Sample], name: str, **labels: str) -> float:
    matching = [
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(matching) == 1, (name, labels, matching)
    return matching[0]


def test_a_scrape_over_http_exposes_every_metric_with_its_type(server: MetricsServer) -> None:
    families = scrape(server)

    exposed = {
        name: kind
        for name, (kind, _) in families.items()
        if name.startswith("makerd_") and not name.endswith("_created")
    }

    assert exposed == EXPECTED_FAMILIES


def test_names_follow_prometheus_conventions(server: MetricsServer) -> None:
    families = scrape(server)

    for name, (kind, samples) in families.items():
        if not name.startswith("makerd_") or name.endswith("_created"):
            continue
        assert not name.endswith(("_ms", "_bps", "_percent", "_milliseconds")), name
        if kind == "counter":
            assert {s.name for s in samples} <= {f"{name}_total", f"{name}_created"}, name
        else:
            assert not name.endswith("_total"), name


def test_every_series_carries_the_venue_and_symbol(server: MetricsServer) -> None:
    families = scrape(server)

    unlabelled = [
        sample.name
        for name, (_, samples) in families.items()
        if name.startswith("makerd_")
        for sample in samples
        if (sample.labels.get("venue"), sample.labels.get("symbol")) != ("sim", "BTC")
    ]

    assert unlabelled == []


def test_known_label_combinations_start_at_zero_before_any_event(server: MetricsServer) -> None:
    _, rejected = scrape(server)["makerd_orders_rejected"]
    _, fills = scrape(server)["makerd_fills"]

    for reason in RejectReason:
        assert value_of(rejected, "makerd_orders_rejected_total", reason=reason.value) == 0
    for side in ("buy", "sell"):
        for liquidity in ("maker", "taker"):
            assert value_of(fills, "makerd_fills_total", side=side, liquidity=liquidity) == 0


def test_recorded_events_show_up_in_the_next_scrape(
    metrics: Metrics, server: MetricsServer
) -> None:
    metrics.fills_total.labels(side="buy", liquidity="maker").inc()
    metrics.position.set(-0.002)
    metrics.tick_to_quote_seconds.observe(0.0003)
    metrics.kill_switch_state.state("armed")  # "tripped" makes the stop linger 15 s

    families = scrape(server)

    fills = families["makerd_fills"][1]
    assert value_of(fills, "makerd_fills_total", side="buy", liquidity="maker") == 1
    assert value_of(families["makerd_position"][1], "makerd_position") == -0.002
    latency = families["makerd_tick_to_quote_seconds"][1]
    assert value_of(latency, "makerd_tick_to_quote_seconds_bucket", le="0.0005") == 1
    assert value_of(latency, "makerd_tick_to_quote_seconds_bucket", le="0.00025") == 0
    states = families["makerd_kill_switch_state"][1]
    assert value_of(states, "makerd_kill_switch_state", makerd_kill_switch_state="armed") == 1
    assert value_of(states, "makerd_kill_switch_state", makerd_kill_switch_state="tripped") == 0


def test_an_unknown_reason_is_counted_as_other_instead_of_a_new_series(
    metrics: Metrics, server: MetricsServer
) -> None:
    metrics.feed_messages_dropped_total.labels(stream="market", reason="cosmic_ray").inc()

    _, samples = scrape(server)["makerd_feed_messages_dropped"]

    assert (
        value_of(samples, "makerd_feed_messages_dropped_total", stream="market", reason="other")
        == 1
    )
    assert all(s.labels["reason"] != "cosmic_ray" for s in samples)


def test_a_label_value_outside_a_closed_set_is_a_programming_error(metrics: Metrics) -> None:
    with pytest.raises(ValueError, match="side"):
        metrics.orders_placed_total.labels(side="long")


def test_mailbox_depth_is_read_at_scrape_time_and_a_broken_reader_does_not_break_the_scrape(
    metrics: Metrics, server: MetricsServer
) -> None:
    inbox = [1, 2, 3]
    metrics.register_mailbox_depth("quoter", lambda: len(inbox))

    def broken() -> int:
        raise RuntimeError("actor gone")

    metrics.register_mailbox_depth("book_feed", broken)
    inbox.append(4)

    _, samples = scrape(server)["makerd_actor_mailbox_depth"]

    assert value_of(samples, "makerd_actor_mailbox_depth", actor="quoter") == 4
    assert math.isnan(value_of(samples, "makerd_actor_mailbox_depth", actor="book_feed"))


def test_build_info_reports_the_version(server: MetricsServer) -> None:
    _, samples = scrape(server)["makerd_build_info"]

    assert value_of(samples, "makerd_build_info", version="1.2.3") == 1


def test_the_server_stops_listening_after_shutdown(registry: CollectorRegistry) -> None:
    running = serve_metrics(registry, port=0)
    port = running.port

    running.shutdown()

    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_an_actor_restart_is_counted_under_the_supervisors_exit_kind(
    metrics: Metrics, server: MetricsServer
) -> None:
    metrics.actor_restarts_total.labels(actor="quoter", reason="crashed").inc()

    _, samples = scrape(server)["makerd_actor_restarts"]

    assert value_of(samples, "makerd_actor_restarts_total", actor="quoter", reason="crashed") == 1
    assert value_of(samples, "makerd_actor_restarts_total", actor="quoter", reason="hung") == 0


def test_no_placeholder_gauge_exists_before_an_event_names_it(server: MetricsServer) -> None:
    families = scrape(server)

    placeholders = [
        (sample.name, sample.labels)
        for name, (_, samples) in families.items()
        if EXPECTED_FAMILIES.get(name) == "gauge"
        for sample in samples
        if "other" in sample.labels.values()
    ]

    assert placeholders == []
    assert families["makerd_feed_connected"][1] == [], "no stream has reported yet"


def test_a_stream_that_reports_gets_its_connected_series(
    metrics: Metrics, server: MetricsServer
) -> None:
    metrics.feed_connected.labels(stream="market").set(1)

    _, samples = scrape(server)["makerd_feed_connected"]

    assert [(s.labels["stream"], s.value) for s in samples] == [("market", 1.0)]


def test_the_process_and_platform_collectors_are_on(server: MetricsServer) -> None:
    families = scrape(server)

    assert families["process_resident_memory_bytes"][1][0].value > 0
    assert families["process_start_time_seconds"][1][0].value > 0
    assert "process_open_fds" in families
    assert "python_info" in families
    assert "python_gc_collections" in families


def shutdown_in_background(server: MetricsServer) -> threading.Thread:
    stopping = threading.Thread(target=server.shutdown, daemon=True)
    stopping.start()
    return stopping


def test_a_tripped_process_serves_one_last_scrape_before_its_endpoint_closes(
    metrics: Metrics, registry: CollectorRegistry
) -> None:
    running = serve_metrics(registry, port=0)
    scrape(running)
    scrape(running)  # two scrapes: something is scraping, at a known interval
    metrics.kill_switch_state.state("tripped")

    stopping = shutdown_in_background(running)
    assert running.lingering.wait(10), "shutdown waits for the scraper"
    last = scrape(running)["makerd_kill_switch_state"][1]
    stopping.join(10)

    assert value_of(last, "makerd_kill_switch_state", makerd_kill_switch_state="tripped") == 1
    assert not stopping.is_alive()


def test_an_ordinary_stop_or_an_unscraped_run_does_not_wait(
    metrics: Metrics, registry: CollectorRegistry
) -> None:
    scraped = serve_metrics(registry, port=0)
    scrape(scraped)
    scrape(scraped)
    scraped.shutdown()
    metrics.kill_switch_state.state("tripped")
    unscraped = serve_metrics(registry, port=0)
    unscraped.shutdown()

    assert not scraped.lingering.is_set(), "the kill switch was armed at the stop"
    assert not unscraped.lingering.is_set(), "nobody was scraping"


def test_a_bound_server_answers_only_once_served_and_releases_its_port_when_never_served() -> None:
    registry = CollectorRegistry()
    served = bind_metrics(registry, "127.0.0.1", 0)
    never_served = bind_metrics(registry, "127.0.0.1", 0)
    port = never_served.port

    served.serve()
    with urllib.request.urlopen(f"http://127.0.0.1:{served.port}/metrics", timeout=5) as answer:
        status = answer.status
    served.shutdown()
    served.shutdown()  # a second close, as a start refused after the bind does: no wait
    never_served.shutdown()

    assert status == 200
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # raises if the unserved server still held it
