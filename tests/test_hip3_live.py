"""A builder-deployed (HIP-3) coin traded end to end: makerd in live mode, as a real
process, against the local venue's builder dex ``xyz``.

The venue keeps each dex's orders and positions apart, as the exchange does: a query
that does not name ``xyz`` sees nothing of ``xyz:TSLA``. So the run only stops cleanly,
and only cancels a killed run's orphans, if makerd asks about the right dex.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from makerd.daemon.exit_codes import EXIT_CONFIG, EXIT_OK
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.processes import MakerdProcess, write_config
from tests.test_hl_live_e2e import Trader, fault, wait_until

TSLA = "xyz:TSLA"


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=13, tick_interval_s=0.1))
    yield venue.start()
    venue.stop()


class Hip3Trader(Trader):
    """A throwaway key and a live config quoting ``xyz:TSLA`` in sizes its price allows."""

    def __init__(self, tmp_path: Path, venue_url: str, *, dead_man_s: float = 6.0) -> None:
        super().__init__(tmp_path, venue_url, dead_man_s=dead_man_s)
        self.config = write_config(
            tmp_path / "hip3.yaml",
            {
                "mode": "live",
                "coin": TSLA,
                "status_interval_s": 0.5,
                "quoting": {"first_level_bps": 2, "levels": 2, "order_size": 0.1},
                "risk": {"max_position": 2},
                "watchdog": {"dead_man_switch_s": dead_man_s},
                # Every other live test posts actions over the WebSocket (the default):
                # this one keeps the HTTP-only transport working end to end.
                "hyperliquid": {"order_transport": "http"},
            },
        )

    def open_orders(self, dex: str = "xyz") -> list[dict[str, object]]:
        orders = self.info({"type": "openOrders", "dex": dex})
        assert isinstance(orders, list)
        return orders

    def venue_fills(self) -> list[tuple[Decimal, Decimal]]:
        fills = self.info({"type": "userFills"})
        assert isinstance(fills, list)
        return sorted((Decimal(f["sz"]), Decimal(f["fee"])) for f in fills if f["coin"] == TSLA)

    def journal_fills(self) -> list[tuple[Decimal, Decimal]]:
        with sqlite3.connect(self.state / "journal.sqlite") as db:
            rows = list(db.execute("SELECT size, fee FROM fills WHERE coin = ?", (TSLA,)))
        return sorted((Decimal(size), Decimal(fee)) for size, fee in rows)


def test_a_hip3_coin_rests_on_its_dex_gets_a_fill_journaled_and_sigterm_leaves_none(
    tmp_path: Path, venue_url: str
) -> None:
    trader = Hip3Trader(tmp_path, venue_url)
    makerd = trader.start(tmp_path)
    wait_until(lambda: len(trader.open_orders()) >= 2, timeout_s=30, process=makerd)
    resting = trader.open_orders()

    fault(venue_url, {"sweep": {"user": trader.address, "side": "buy", "coin": TSLA}})
    wait_until(lambda: trader.journal_fills() != [], timeout_s=20, process=makerd)
    makerd.signal(signal.SIGTERM)
    code = makerd.finish()

    assert code == EXIT_OK, makerd.text
    assert {order["coin"] for order in resting} == {TSLA}
    assert trader.open_orders(dex="") == []  # nothing strayed onto the main dex
    assert "venue confirms 0 open orders" in makerd.text
    assert trader.open_orders() == []
    assert trader.journal_fills() == trader.venue_fills()  # the dex's fee, as reported
    assert "position_mismatch" not in makerd.text


def test_a_restart_cancels_the_orphans_a_killed_run_left_on_the_builder_dex(
    tmp_path: Path, venue_url: str
) -> None:
    trader = Hip3Trader(tmp_path, venue_url, dead_man_s=0)  # nothing cancels them for us
    first = trader.start(tmp_path)
    wait_until(lambda: len(trader.open_orders()) >= 2, timeout_s=30, process=first)
    first.signal(signal.SIGKILL)
    first.finish()
    orphans = {order["oid"] for order in trader.open_orders()}
    assert orphans, "the killed run left orders resting"

    second = trader.start(tmp_path)
    wait_until(
        lambda: not orphans & {order["oid"] for order in trader.open_orders()},
        timeout_s=15,
        process=second,
    )
    second.signal(signal.SIGTERM)

    assert second.finish() == EXIT_OK, second.text
    assert trader.open_orders() == []


def test_paper_mode_quotes_a_hip3_coin_from_its_dex_public_book(
    tmp_path: Path, venue_url: str
) -> None:
    trader = Hip3Trader(tmp_path, venue_url)
    args = ["run", "--config", str(trader.config), "--mode", "paper", "--api-url", venue_url]
    makerd = MakerdProcess(
        [*args, "--state-dir", str(trader.state), "--duration", "20"], cwd=tmp_path
    )

    quoting = makerd.wait_for(r"makerd paper xyz:TSLA \| mid=([0-9.]+) .*orders=([1-9]\d*)")
    makerd.signal(signal.SIGTERM)

    assert makerd.finish() == EXIT_OK, makerd.text
    assert abs(Decimal(quoting.group(1)) - 250) < 25  # the builder dex's book, not BTC's
    assert trader.open_orders() == []  # paper orders never reach the venue


def test_an_unlisted_builder_dex_exits_78_naming_the_dexes_before_any_order(
    tmp_path: Path, venue_url: str
) -> None:
    trader = Hip3Trader(tmp_path, venue_url)
    args = ["run", "--config", str(trader.config), "--api-url", venue_url, "--coin", "xyy:TSLA"]
    makerd = MakerdProcess(
        [*args, "--state-dir", str(trader.state)],
        cwd=tmp_path,
        env={"MAKERD_PRIVATE_KEY": trader.key},
    )

    assert makerd.finish() == EXIT_CONFIG, makerd.text
    assert "no perp dex 'xyy'" in makerd.text
    assert "did you mean xyz" in makerd.text
    actions = trader.info({"type": "userRateLimit"})
    assert isinstance(actions, dict)
    assert actions["nRequestsUsed"] == 0


def test_a_comma_list_of_coins_is_read_as_several_coins(tmp_path: Path) -> None:
    config = write_config(tmp_path / "two.yaml", {"coin": "BTC,ETH"})

    checked = MakerdProcess(["check-config", str(config)], cwd=tmp_path)

    assert checked.finish() == EXIT_OK, checked.text
    assert "coin=BTC,ETH" in checked.text


def test_several_coins_in_paper_mode_pass_check_config(tmp_path: Path) -> None:
    config = write_config(tmp_path / "two.yaml", {"mode": "paper", "coins": ["BTC", "ETH"]})

    checked = MakerdProcess(["check-config", str(config)], cwd=tmp_path)

    assert checked.finish() == EXIT_OK, checked.text
    assert "coin=BTC,ETH" in checked.text


class _WrongShape(BaseHTTPRequestHandler):
    """Any POST gets 200 and JSON in no shape the exchange uses."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        answer = b'{"perpDexs": "not a list"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def wrong_shape_url() -> Iterator[str]:
    """A URL that does not speak the exchange's API (the local venue always does)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WrongShape)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_an_unreadable_perp_dexs_answer_exits_78_with_a_line_not_a_traceback(
    tmp_path: Path, wrong_shape_url: str
) -> None:
    trader = Hip3Trader(tmp_path, wrong_shape_url)

    makerd = trader.start(tmp_path)

    assert makerd.finish() == EXIT_CONFIG, makerd.text
    assert "live venue: its answer could not be read (perpDexs:" in makerd.text
    assert "Traceback" not in makerd.text
