"""``feed.record_dir``: a paper or live run records the market stream it trades on."""

from __future__ import annotations

import gzip
import json
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from makerd.venues.hyperliquid.recording_rules import RULES_NAME, load_rules
from tests.processes import MakerdProcess, write_config


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=13, tick_interval_s=0.1))
    url = venue.start()
    yield url
    venue.stop()


def trading_run(tmp_path: Path, url: str, record_dir: Path, *, mode: str) -> MakerdProcess:
    config = write_config(
        tmp_path / "paper.yaml",
        # A status line every 0.5 s, not 5 s: the test waits for the first one with a mid.
        {
            "mode": mode,
            "coin": "BTC",
            "status_interval_s": 0.5,
            "feed": {"record_dir": str(record_dir)},
        },
    )
    args = ["--log-format", "text", "run", "--config", str(config), "--api-url", url]
    args += ["--state-dir", str(tmp_path / "state"), "--metrics-port", "0"]
    # A throwaway key: the venue funds every new signer (auto_provision).
    return MakerdProcess(args, cwd=tmp_path, env={"MAKERD_PRIVATE_KEY": Account.create().key.hex()})


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text: str = response.read().decode()
    return text


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_a_trading_run_with_record_dir_records_its_market_stream(
    venue_url: str, tmp_path: Path, mode: str
) -> None:
    record_dir = tmp_path / "recording"
    process = trading_run(tmp_path, venue_url, record_dir, mode=mode)
    port = process.metrics_port()
    # A status line with a mid: started (gauges registered), and a book went by the tap.
    process.wait_for(r"makerd \w+ BTC \| mid=\d")
    metrics = scrape(port)

    process.signal(signal.SIGTERM)

    assert process.finish(60) == 0, process.text[-4000:]
    recording, rules = sorted(record_dir.iterdir())
    assert rules.name == RULES_NAME
    assert load_rules(rules, "BTC").coin == "BTC"
    assert recording.name.startswith("BTC_")
    assert recording.suffix == ".gz"
    with gzip.open(recording, "rt", encoding="utf-8") as file:
        lines = file.read().splitlines()
    channels = {json.loads(line.split(" ", 1)[1])["channel"] for line in lines}
    assert channels >= {"l2Book"}
    assert all(line.split(" ", 1)[0].isdigit() for line in lines)
    assert 'makerd_recording_dropped_lines{symbol="BTC",venue="' in metrics


def test_a_record_dir_that_cannot_be_created_is_refused_before_the_exchange(
    tmp_path: Path,
) -> None:
    (tmp_path / "file").write_text("x")
    # Port 9 (discard) on loopback: nothing answers, so reaching it would fail differently.
    process = trading_run(
        tmp_path, "http://127.0.0.1:9", tmp_path / "file" / "recording", mode="live"
    )

    assert process.finish(30) == 78
    assert "feed.record_dir: " in process.text
    assert "is not a directory" in process.text


def test_record_dir_in_sim_mode_is_a_config_error(tmp_path: Path) -> None:
    process = trading_run(tmp_path, "http://127.0.0.1:9", tmp_path / "recording", mode="sim")

    assert process.finish(30) == 78
    assert "feed.record_dir: only paper and live mode" in process.text
