"""``makerd ctl status`` shows PnL a trader can read: micro-dollars, not division residue."""

from __future__ import annotations

from decimal import Decimal

from makerd.actors.ledger import Ledger
from makerd.config.loader import parse_config
from makerd.daemon.status_document import RunFacts, status_document
from makerd.daemon.status_snapshot import StatusSnapshot
from makerd.protocol.side import Side
from tests.kit import T0, fill


def test_pnl_in_the_status_is_rounded_to_micro_dollars_and_sums_to_its_total() -> None:
    ledger = Ledger()
    # Three buys at prices whose average entry is a repeating decimal, then a partial sell.
    for n, price in enumerate(("100000", "100001", "100001")):
        ledger.apply(fill(f"t{n}", Side.BUY, price, "0.001", fee="0.015"))
    ledger.apply(fill("t3", Side.SELL, "100002", "0.001", fee="0.015"))
    mark = Decimal("99999.69")
    snapshot = StatusSnapshot(
        position=ledger.position,
        realized_pnl=ledger.realized_pnl,
        unrealized_pnl=ledger.unrealized_at(mark),
        fees=ledger.fees_paid,
    )
    facts = RunFacts(session_id=1, pid=1, uptime_s=1.0, now_ns=T0, stopping=None, kill_switch=None)

    pnl = status_document(snapshot, parse_config({}, source="test"), facts)["pnl"]

    assert isinstance(pnl, dict)
    assert len(str(ledger.unrealized_at(mark))) > 20, "the ledger's own figure carries residue"
    assert pnl == {
        "realized_usd": "0.001333",
        "unrealized_usd": "-0.001953",
        "fees_usd": "0.060",
        "funding_usd": "0",
        "total_usd": "-0.060620",
    }
