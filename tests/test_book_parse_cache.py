"""A replay's level cache parses books exactly as the uncached live path does."""

from __future__ import annotations

import random

import pytest

from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.parse import LevelCache, parse_l2_book

T0_MS = 1_767_225_600_000
MS = 1_000_000


def _snapshot(rng: random.Random, step: int) -> dict[str, object]:
    mid = 60_000 + rng.randint(-3, 3)
    # Sizes drawn from a few values so that levels repeat, as they do on a real feed.
    bids = [
        {"px": str(mid - 1 - i), "sz": rng.choice(["0.5", "1.25", "3"]), "n": rng.randint(1, 3)}
        for i in range(20)
    ]
    asks = [
        {"px": f"{mid + 1 + i}.0", "sz": rng.choice(["0.5", "2"]), "n": rng.randint(1, 3)}
        for i in range(20)
    ]
    return {"coin": "BTC", "time": T0_MS + 100 * step, "levels": [bids, asks]}


def test_cached_parse_equals_the_uncached_parse_snapshot_after_snapshot() -> None:
    rng = random.Random(5)
    cache = LevelCache()
    for step in range(500):
        data = _snapshot(rng, step)
        ts_local = (T0_MS + 100 * step + 30) * MS
        assert parse_l2_book(data, ts_local=ts_local, cache=cache) == parse_l2_book(
            data, ts_local=ts_local
        )
    assert cache.levels, "levels that repeat are kept"


@pytest.mark.parametrize("orders", [True, 1.0, "1"])
def test_a_level_with_a_bad_order_count_is_refused_even_when_its_twin_is_cached(
    orders: object,
) -> None:
    cache = LevelCache()
    good = {"px": "60000", "sz": "1", "n": 1}
    book = {"coin": "BTC", "time": T0_MS, "levels": [[good], [{"px": "60001", "sz": "1", "n": 1}]]}
    parse_l2_book(book, ts_local=T0_MS * MS, cache=cache)
    bad = {**book, "levels": [[{**good, "n": orders}], book["levels"][1]]}  # type: ignore[index]
    with pytest.raises(FeedParseError, match="n is not an integer"):
        parse_l2_book(bad, ts_local=T0_MS * MS, cache=cache)


@pytest.mark.parametrize("size", ["0", "-1", "1e3", "x"])
def test_a_bad_size_is_refused_even_when_its_price_string_is_cached(size: str) -> None:
    cache = LevelCache()
    ask = {"px": "60001", "sz": "1", "n": 1}
    book = {"coin": "BTC", "time": T0_MS, "levels": [[{"px": "60000", "sz": "2", "n": 1}], [ask]]}
    parse_l2_book(book, ts_local=T0_MS * MS, cache=cache)
    bad = {**book, "levels": [[{"px": "60000", "sz": size, "n": 1}], [ask]]}
    with pytest.raises(FeedParseError, match="sz"):
        parse_l2_book(bad, ts_local=T0_MS * MS, cache=cache)


def test_the_cache_stays_within_its_limit() -> None:
    rng = random.Random(9)
    cache = LevelCache(limit=100)
    for step in range(200):
        parse_l2_book(_snapshot(rng, step), ts_local=(T0_MS + 100 * step + 30) * MS, cache=cache)
        assert len(cache.levels) <= 100 + 40
        assert len(cache.decimals) <= 100 + 80
