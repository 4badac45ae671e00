"""Metric label vocabularies, and the family wrapper that keeps every label inside them.

Every label but ``venue`` and ``symbol`` takes its values from a fixed set here (listed,
with meanings, in deploy/prometheus/README.md): a new venue message can never mint
unbounded series.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Generic, TypeVar

from prometheus_client import Counter, Enum, Gauge, Histogram

from makerd.actors.routing import ACTOR_ROLES
from makerd.protocol.account import Liquidity
from makerd.protocol.market import DropReason
from makerd.protocol.orders import CancelReason
from makerd.protocol.rejections import RejectReason
from makerd.protocol.risk import KillReason, RiskLimit, TradingState
from makerd.supervision.model import ExitKind

OTHER = "other"
SIDES = ("buy", "sell")
LIQUIDITY = tuple(item.value for item in Liquidity)
QUOTE_SKIP_REASONS = ("stale_book", "risk", "throttle", OTHER)
ORDER_RULE_ERROR_REASONS = ("tick", "lot", "size_zero", "min_notional", OTHER)
FEED_STREAMS = ("market", "user", OTHER)
DISCONNECT_REASONS = ("closed_ok", "closed_error", "timeout", "refused", OTHER)
FEED_CHANNELS = ("l2Book", "trades", "orderUpdates", "userFills", OTHER)
FEED_DROP_REASONS = (*(reason.value for reason in DropReason), OTHER)
# A restart's reason is how the previous incarnation ended (supervision.model.ExitKind).
RESTART_REASONS = (*(kind.value for kind in ExitKind), OTHER)
ACTORS = (*ACTOR_ROLES, OTHER)
RISK_LIMITS = (*(reason.value for reason in KillReason), "reduce_only", OTHER)
KILL_SWITCH_STATES = ("armed", "tripped")

M = TypeVar("M", Counter, Gauge, Histogram, Enum)

# The logger these warnings have always named in the log line (moved here from metrics.py).
log = logging.getLogger("makerd.metrics")


class LabelledMetric(Generic[M]):
    """A metric family with ``venue`` and ``symbol`` bound; :meth:`labels` takes the rest.

    A value outside a label's fixed set becomes ``other`` where the set has one (logged
    once), so a new venue message can never mint unbounded series; where it has none
    the value is a programming error and raises ValueError.
    """

    def __init__(
        self,
        family: M,
        bound: Mapping[str, str],
        allowed: Mapping[str, tuple[str, ...]],
        *,
        precreate: bool = True,
        precreate_other: bool = True,
    ) -> None:
        self._family: M = family
        self._bound = dict(bound)
        self._allowed = allowed
        self._reported: set[tuple[str, str]] = set()
        if precreate:
            for combination in _combinations(allowed, with_other=precreate_other):
                family.labels(**self._bound, **combination)

    def labels(self, **extra: str) -> M:
        """The child for these extra label values (``side="buy"``, ``reason=...``)."""
        return self._family.labels(**self._bound, **self._checked(extra))

    def _checked(self, extra: Mapping[str, str]) -> dict[str, str]:
        checked = {}
        for name, value in extra.items():
            allowed = self._allowed[name]
            if value in allowed:
                checked[name] = value
            elif OTHER in allowed:
                if (name, value) not in self._reported:
                    self._reported.add((name, value))
                    log.warning(
                        "metric label %s=%r is not in the known set; using 'other'", name, value
                    )
                checked[name] = OTHER
            else:
                raise ValueError(f"label {name}={value!r} must be one of {', '.join(allowed)}")
        return checked


def enum_values(
    enum_type: type[CancelReason | RejectReason | KillReason | RiskLimit | TradingState],
) -> tuple[str, ...]:
    return tuple(str(item.value) for item in enum_type)


def _combinations(
    allowed: Mapping[str, tuple[str, ...]], *, with_other: bool
) -> list[dict[str, str]]:
    """Every combination of allowed values, with or without ``other``."""
    combinations: list[dict[str, str]] = [{}]
    for name, values in allowed.items():
        known = [value for value in values if with_other or value != OTHER]
        combinations = [{**partial, name: value} for partial in combinations for value in known]
    return combinations
