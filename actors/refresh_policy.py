"""How far a resting order may drift from its target before the order_manager moves it.

The configured tolerances (:class:`actors.order_diff.Tolerance`) are widened while the
exchange's request budget for the address runs low, so quoting spends it slower; cancels
are never held back. A reload (SIGHUP) replaces the configuration; resting orders are
re-judged at the next target.
"""

from __future__ import annotations

import dataclasses
import logging

from makerd.actors.order_diff import Tolerance
from makerd.config.model import OrderManagerConfig
from makerd.protocol.rate_limits import RequestBudgetReported

log = logging.getLogger("makerd.order_manager")
NS_PER_S = 1_000_000_000


def configured_tolerance(config: OrderManagerConfig) -> Tolerance:
    """The tolerances as configured, before any widening for a low request budget."""
    return Tolerance(
        price_bps=config.price_tolerance_bps,
        size_fraction=config.size_tolerance,
        max_age_ns=int(config.max_order_age_s * NS_PER_S),
        queue_hold_ns=int(config.queue_hold_s * NS_PER_S),
        queue_hold_factor=config.queue_hold_factor,
        behind_factor=config.behind_tolerance_factor,
        depth_fraction=config.depth_tolerance,
    )


class RefreshPolicy:
    def __init__(self, config: OrderManagerConfig) -> None:
        self.budget_low = False
        self._config = config
        self._normal = configured_tolerance(config)
        self._tolerance = self._normal

    @property
    def tolerance(self) -> Tolerance:
        return self._tolerance

    @property
    def config(self) -> OrderManagerConfig:
        return self._config

    def configure(self, config: OrderManagerConfig) -> None:
        self._config = config
        self._normal = configured_tolerance(config)
        self._tolerance = self._budget_scaled()

    def on_request_budget(self, report: RequestBudgetReported) -> list[object]:
        """Spend the exchange's address budget slower when it runs low (cancels stay free);
        nothing to send: the next target is judged with the new tolerance."""
        low = report.requests_left < self._config.budget_low_water_requests
        if low == self.budget_low:
            return []
        self.budget_low = low
        self._tolerance = self._budget_scaled()
        log.warning(
            "event=request_budget_%s requests_left=%d cap=%d tolerance_bps=%s",
            "low" if low else "recovered",
            report.requests_left,
            report.requests_cap,
            self._tolerance.price_bps,
        )
        return []

    def _budget_scaled(self) -> Tolerance:
        normal = self._normal
        if not self.budget_low:
            return normal
        factor = self._config.budget_tolerance_factor
        return dataclasses.replace(
            normal, price_bps=normal.price_bps * factor, max_age_ns=int(normal.max_age_ns * factor)
        )
