"""What a session ran with, kept in the journal so that every report can state it.

A figure without its fill model, latency and fees cannot be judged: a backtest that fills
every touch at zero latency and no fees looks like a money machine. The settings are
written once, when the session starts; reports read them back with :func:`read_settings`.

They also keep what a later replay of the session needs (``makerd report --replay``): the
whole config as its YAML mapping, and where the session recorded its market stream
(``feed.record_dir``, made absolute), read back with :func:`read_replay_inputs`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from makerd.config.document import config_document
from makerd.config.model import COIN_RISK_KEYS, MakerdConfig, Mode, PaperConfig, QueueModel
from makerd.daemon.journal import Journal
from makerd.daemon.journal_latency import distribution_text

PAPER_FILL_MODEL = (
    "paper matching engine: an order joins behind the displayed size at its price, "
    "trades at the price advance it, a book or trade through the price fills it; "
    "partial fills"
)
POWER_PROB_FILL_MODEL = (
    "paper matching engine: an order joins behind the displayed size at its price, "
    "trades at the price advance it, cancels count as ahead of it with the power-{n} "
    "probability (queue_model power_prob), a book or trade through the price fills it; "
    "partial fills"
)
EXCHANGE_FILL_MODEL = "the exchange's own matching (real fills)"
UNKNOWN = "unknown (not recorded by the makerd that ran this session)"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSettings:
    """Text a reader needs to judge the figures, and the position limit the plots draw."""

    fill_model: str
    latency: str
    fees: str
    max_position: str | None
    """The one coin's limit (its own, when its entry sets one); with several coins, the
    top-level section's."""
    coin_limits: str | None = None
    """With several coins: each coin's own limits (``BTC max_position 0.05, ...; SOL ...``);
    None with one coin, or for a session that did not keep them."""


def settings_of(config: MakerdConfig, *, mode: str) -> SessionSettings:
    """The settings of a session in ``mode`` ("sim", "paper", "live" or "backtest")."""
    paper = config.paper
    if mode == Mode.LIVE.value:
        return SessionSettings(
            fill_model=EXCHANGE_FILL_MODEL,
            latency="real (the network and the exchange)",
            fees="charged by the exchange, per fill",
            max_position=format(config.risk_in_force().max_position, "f"),
            coin_limits=coin_limits_text(config),
        )
    fill_model = PAPER_FILL_MODEL
    if paper.queue_model is QueueModel.POWER_PROB:
        fill_model = POWER_PROB_FILL_MODEL.format(n=paper.queue_power)
    return SessionSettings(
        fill_model=fill_model,
        latency=constant_latency(paper),
        fees=(
            f"maker {format(paper.maker_fee_rate, 'f')}, "
            f"taker {format(paper.taker_fee_rate, 'f')} of notional"
        ),
        max_position=format(config.risk_in_force().max_position, "f"),
        coin_limits=coin_limits_text(config),
    )


def coin_limits_text(config: MakerdConfig) -> str | None:
    """Each coin's limits in force, its own over the top-level section's (several coins)."""
    specs = config.coin_specs()
    if len(specs) < 2:
        return None
    return "; ".join(
        f"{spec.coin} "
        + ", ".join(
            f"{key} {format(getattr(config.coin_risk(spec.coin), key), 'f')}"
            for key in COIN_RISK_KEYS
        )
        for spec in specs
    )


def constant_latency(paper: PaperConfig) -> str:
    """The paper venue's configured latencies, as a report states them."""
    return (
        f"order entry {paper.order_entry_latency_ms} ms, "
        f"acknowledgement {paper.ack_latency_ms} ms (constant)"
    )


def record_settings(
    journal: Journal,
    session_id: int,
    config: MakerdConfig,
    *,
    mode: str,
    latency: str | None = None,
) -> None:
    """Keep the session's settings; ``latency`` states a latency that is not the config's
    (a backtest drawing from measured latencies)."""
    settings = settings_of(config, mode=mode)
    record_dir = config.feed.record_dir
    journal.report_tables.record_settings(
        session_id,
        json.dumps(
            {
                "fill_model": settings.fill_model,
                "latency": settings.latency if latency is None else latency,
                "fees": settings.fees,
                "max_position": settings.max_position,
                "coin_limits": settings.coin_limits,
                "record_dir": None if record_dir is None else str(record_dir.resolve()),
                "config": config_document(config),
            }
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayInputs:
    """What a session kept for its replay; None where it kept nothing."""

    record_dir: Path | None
    config: dict[str, object] | None


def read_replay_inputs(journal: Journal, session_id: int) -> ReplayInputs:
    text = journal.report_tables.settings(session_id)
    stored = json.loads(text) if text is not None else {}
    record_dir = stored.get("record_dir")
    config = stored.get("config")
    return ReplayInputs(
        record_dir=Path(record_dir) if isinstance(record_dir, str) else None,
        config=config if isinstance(config, dict) else None,
    )


def read_settings(journal: Journal, session_id: int) -> SessionSettings:
    """The session's settings; each one "unknown" for a session that did not keep them.

    A session that measured its orders' acknowledgement latencies states their
    distribution after its latency."""
    text = journal.report_tables.settings(session_id)
    stored = json.loads(text) if text is not None else {}
    latency = str(stored.get("latency", UNKNOWN))
    measured = [row.latency_ns for row in journal.ack_latencies.ack_latencies(session_id)]
    if measured:
        latency += f"; measured ack latency {distribution_text(measured)}"
    return SessionSettings(
        fill_model=str(stored.get("fill_model", UNKNOWN)),
        latency=latency,
        fees=str(stored.get("fees", UNKNOWN)),
        max_position=stored.get("max_position"),
        coin_limits=stored.get("coin_limits"),
    )
