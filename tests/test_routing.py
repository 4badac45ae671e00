"""The routing table and the roles' handlers cannot drift apart."""

from __future__ import annotations

from pathlib import Path

from makerd.actors.gate import TradingGate
from makerd.actors.routing import ACTOR_ROLES, ROUTES, DeclaresHandled, routing_problems
from makerd.config.model import MakerdConfig
from makerd.daemon.cloids import CloidFactory
from makerd.daemon.journal import Journal
from makerd.daemon.latch import KillSwitchLatch
from makerd.daemon.wiring import Dependencies, logic_factories
from makerd.protocol.clock import ManualClock
from makerd.protocol.control import ParametersChanged
from makerd.protocol.market import BookUpdated, FeedRecovered
from makerd.venues.sim.venue import sim_instrument


def every_role(tmp_path: Path) -> dict[str, DeclaresHandled]:
    config = MakerdConfig()
    journal = Journal(tmp_path / "journal.sqlite")
    deps = Dependencies(
        config=config,
        instrument=sim_instrument(config.sim, config.coin),
        journal=journal,
        session_id=journal.start_session(mode="sim", coin=config.coin, ts_ns=0),
        latch=KillSwitchLatch(tmp_path),
        new_cloid=CloidFactory(),
        clock=ManualClock(0),
        gate=TradingGate(),
    )
    built = {role: build() for role, build in logic_factories(deps).items()}
    assert set(built) == set(ACTOR_ROLES)
    return built  # type: ignore[return-value]


def test_every_routed_message_is_handled_and_every_handler_is_fed(tmp_path: Path) -> None:
    assert routing_problems(every_role(tmp_path)) == []


def test_a_route_to_a_role_that_ignores_the_message_is_reported(tmp_path: Path) -> None:
    class IgnoresEverything:
        def handled_types(self) -> frozenset[type]:
            return frozenset()

    problems = routing_problems({"risk_guardian": IgnoresEverything()})

    assert "ParametersChanged is routed to risk_guardian, which ignores it" in problems


def test_the_risk_guardian_hears_reloads_and_the_book_its_price_band_watches() -> None:
    assert "risk_guardian" in ROUTES[ParametersChanged]
    assert "risk_guardian" in ROUTES[BookUpdated]
    assert "order_manager" not in ROUTES[FeedRecovered]
