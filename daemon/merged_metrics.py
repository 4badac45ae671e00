"""Several coins' metrics served as one set: each coin's series under its ``symbol`` label.

Each coin's :class:`makerd.metrics.Metrics` lives in a registry of its own (the families
have the same names); this collector, registered in the served registry, merges the
families of the same name so the exposition lists every name once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric

from makerd.daemon.metrics import Metrics


def coin_metrics_in(
    registry: CollectorRegistry, *, mode: str, coins: tuple[str, ...]
) -> dict[str, Metrics]:
    """One :class:`Metrics` per coin, every one served by ``registry``; the first coin's
    also carries the process's own series (CPU, memory, actors, restarts, reloads)."""
    if len(coins) == 1:
        return {coins[0]: Metrics(registry, venue=mode, symbol=coins[0])}
    own = {coin: CollectorRegistry() for coin in coins}
    metrics = {
        coin: Metrics(own[coin], venue=mode, symbol=coin, process_collectors=index == 0)
        for index, coin in enumerate(coins)
    }
    registry.register(MergedRegistries(list(own.values())))
    return metrics


class MergedRegistries:
    def __init__(self, registries: Sequence[CollectorRegistry]) -> None:
        self._registries = tuple(registries)

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for registry in self._registries:
            for family in registry.collect():
                known = merged.get(family.name)
                if known is None:
                    merged[family.name] = family
                else:
                    known.samples.extend(family.samples)
        yield from merged.values()
