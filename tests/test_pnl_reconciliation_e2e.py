"""A kill with flatten as a real process, in sim and in live mode against the local
venue: the printed summary's PnL and ``makerd report``'s agree with the venue's own
fills plus funding, and the journal holds the figure the kill switch tripped on.

The venue's truth is computed by cash flow (what was paid and received for every fill,
less fees, plus funding; the position is flat after the flatten), independently of the
ledger's average-cost bookkeeping. Each test prints its figures.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from makerd.daemon.exit_codes import EXIT_KILL_SWITCH
from makerd.daemon.journal import Journal
from makerd.venues.hl_local.background import VenueThread
from makerd.venues.hl_local.server import VenueConfig
from tests.processes import MakerdProcess, write_config
from tests.test_hl_live_e2e import wait_until

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Figures:
    summary: Decimal
    report: Decimal
    venue: Decimal
    funding: Decimal
    trip: str


def total_pnl(text: str) -> Decimal:
    """The last ``total pnl`` line of a summary (``-1,234.56 USD``)."""
    found = re.findall(r"^total pnl\s+(-?[\d,]+\.\d\d) USD$", text, flags=re.MULTILINE)
    assert found, text[-3000:]
    return Decimal(found[-1].replace(",", ""))


def report_total(state: Path, cwd: Path) -> Decimal:
    report = MakerdProcess(["report", "--state-dir", str(state)], cwd=cwd)
    assert report.finish() == 0, report.text
    return total_pnl(report.text)


def cash_flow(fills: list[tuple[str, Decimal, Decimal, Decimal]]) -> Decimal:
    """``(side, price, size, fee)`` fills: money received for sells less money paid for
    buys, less fees; equal to the PnL once the position is flat."""
    return sum(
        (
            (price * size if side in ("A", "S") else -price * size) - fee
            for side, price, size, fee in fills
        ),
        Decimal(0),
    )


def tripped_figure_is_journaled(state: Path, summary: str) -> str:
    """The kill switch's own figure is one of the journal's states, and the report's max
    drawdown is at least the drawdown the switch tripped on."""
    with Journal(state / "journal.sqlite") as journal:
        trips = [
            detail for _, action, _, detail in journal.kill_switch_events() if action == "trip"
        ]
        totals = [snapshot.total_pnl for snapshot in journal.equity(1)]
    assert trips
    session = re.search(r"session pnl (-?\d+\.\d\d)", trips[-1])
    drawdown = re.search(r"drawdown (\d+\.\d\d) from peak (-?\d+\.\d\d)", trips[-1])
    if session is not None:
        figure = Decimal(session.group(1))
    else:
        assert drawdown is not None, trips
        figure = Decimal(drawdown.group(2)) - Decimal(drawdown.group(1))
        reported = re.findall(r"^max drawdown\s+([\d,]+\.\d\d) USD$", summary, flags=re.M)
        assert Decimal(reported[-1].replace(",", "")) >= Decimal(drawdown.group(1)), summary
    # The detail's figures are rounded to cents (a drawdown's from two of them): within a cent.
    closest = min(abs(total - figure) for total in totals)
    assert closest <= CENT, "the report's series holds the figure the switch tripped on"
    return trips[-1]


def reconciles(
    mode: str, makerd: MakerdProcess, state: Path, *, venue: Decimal, funding: Decimal
) -> None:
    """The summary and the report agree with the venue to the cent; print the figures."""
    figures = Figures(
        summary=total_pnl(makerd.text),
        report=report_total(state, state.parent),
        venue=venue,
        funding=funding,
        trip=tripped_figure_is_journaled(state, makerd.text),
    )
    print(
        f"\n[{mode}] kill with flatten ({figures.trip}): summary total pnl {figures.summary} USD, "
        f"makerd report {figures.report} USD, venue fills + funding {figures.venue:.6f} USD "
        f"(funding {figures.funding:.6f})"
    )
    assert abs(figures.summary - figures.venue) < CENT, "rounding only, no loss counted twice"
    assert figures.report == figures.summary


LIMITS = {
    "session_loss": {"session_loss_usd": 5},
    "max_drawdown": {"max_drawdown_usd": 3, "session_loss_usd": 50},
}


@dataclass(frozen=True, slots=True)
class SimKill:
    makerd: MakerdProcess
    state: Path


@pytest.fixture(scope="module")
def sim_kills(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SimKill]]:
    """Both sim sessions, started together: each spends about 30 s waiting for the crash
    scenario's fall (it starts 20 s in) and little CPU, so neither slows the other, and
    the pair costs the suite one wait instead of two."""
    kills: dict[str, SimKill] = {}
    for name, limit in LIMITS.items():
        root = tmp_path_factory.mktemp(f"sim-kill-{name}")
        state = root / "state"
        config = write_config(
            root / "sim.yaml",
            {
                "mode": "sim",
                "sim": {"scenario": "crash", "funding_interval_s": 2, "funding_rate": 0.0005},
                "risk": {**limit, "flatten_on_kill": True},
            },
        )
        args = ["run", "--config", str(config), "--state-dir", str(state)]
        kills[name] = SimKill(MakerdProcess([*args, "--metrics-port", "0"], cwd=root), state)
    yield kills
    for kill in kills.values():
        kill.makerd.kill_if_running()


@pytest.mark.parametrize("limit", list(LIMITS))
def test_a_sim_kill_with_flatten_reports_the_pnl_the_fills_made_once(
    sim_kills: dict[str, SimKill], limit: str
) -> None:
    makerd, state = sim_kills[limit].makerd, sim_kills[limit].state

    code = makerd.finish(timeout=120)

    assert code == EXIT_KILL_SWITCH, makerd.text
    with Journal(state / "journal.sqlite") as journal:
        booked = [b.fill for b in journal.fills(1)]
        funding = journal.session_funding(1)
    fills = [(f.side.value, f.price, f.size, f.fee) for f in booked]
    assert sum((f.size * f.side.sign for f in booked), Decimal(0)) == 0, "flattened"
    assert funding != 0, "funding was charged on the open position"
    reconciles("sim", makerd, state, venue=cash_flow(fills) + funding, funding=funding)


@pytest.fixture(scope="module")
def venue_url() -> Iterator[str]:
    venue = VenueThread(VenueConfig(port=0, auto_provision=True, seed=21, tick_interval_s=0.1))
    url = venue.start()
    yield url
    venue.stop()


def post(url: str, body: dict[str, object]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def venue_account(url: str, user: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{url}/_debug/account?user={user}", timeout=5) as response:
        answer = json.loads(response.read())
    assert isinstance(answer, dict)
    return answer


def test_a_live_kill_with_flatten_reports_the_venue_fills_and_funding_once(
    tmp_path: Path, venue_url: str
) -> None:
    account = Account.create()
    user = account.address.lower()
    state = tmp_path / "state"
    config = write_config(
        tmp_path / "live.yaml",
        {
            "mode": "live",
            "coin": "BTC",
            "status_interval_s": 0.5,
            "quoting": {"first_level_bps": 1, "levels": 2},
            "risk": {"session_loss_usd": 1, "flatten_on_kill": True},
        },
    )
    args = ["run", "--config", str(config), "--api-url", venue_url, "--state-dir", str(state)]
    makerd = MakerdProcess(
        [*args, "--metrics-port", "0"], cwd=tmp_path, env={"MAKERD_PRIVATE_KEY": account.key.hex()}
    )

    def position() -> Decimal:
        held = venue_account(venue_url, user)["position"]
        assert isinstance(held, dict)
        return Decimal(held["BTC"])

    wait_until(lambda: known(venue_url, user) and position() != 0, timeout_s=60, process=makerd)
    paid = post(f"{venue_url}/_debug/funding", {"coin": "BTC", "rate": "0.001"})
    wait_until(lambda: "funding_booked" in makerd.text, timeout_s=10, process=makerd)
    # A move against the position: the session loss limit trips and the flatten follows.
    post(f"{venue_url}/_debug/faults", {"jump_pct": -4 if position() > 0 else 4, "coin": "BTC"})
    code = makerd.finish(timeout=60)

    assert code == EXIT_KILL_SWITCH, makerd.text
    assert position() == 0, "flattened at the venue"
    record = venue_account(venue_url, user)
    raw_fills = record["fills"]
    assert isinstance(raw_fills, list)
    fills = [(f["side"], Decimal(f["px"]), Decimal(f["sz"]), Decimal(f["fee"])) for f in raw_fills]
    history = post(f"{venue_url}/info", {"type": "userFunding", "user": user, "startTime": 0})
    funding = sum((Decimal(item["delta"]["usdc"]) for item in history), Decimal(0))
    assert funding != 0
    assert paid["paid"]
    reconciles("live", makerd, state, venue=cash_flow(fills) + funding, funding=funding)


def known(url: str, user: str) -> bool:
    """The venue has the account (makerd has signed its first action)."""
    try:
        venue_account(url, user)
    except urllib.error.HTTPError:
        return False
    return True
