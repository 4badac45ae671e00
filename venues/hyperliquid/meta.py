"""The venue's ``meta`` → one :class:`Instrument` per perpetual.

A perp's asset id is its index in ``meta.universe`` (counting delisted entries, which
keep their slot). Builder-deployed (HIP-3) perps live on their own dex and are named
``dex:COIN`` (``xyz:TSLA``): the dex's position in ``perpDexs`` (the main dex is entry 0,
the first builder dex entry 1) offsets their ids by ``100000 + 10000 * dex_index``, so
``xyz:TSLA`` at index 0 of the first builder dex is asset 110000. Everything else (tick
and lot rules, minimum notional) follows from ``szDecimals`` through :class:`Instrument`.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeGuard

from makerd.protocol.instrument import PERP_MAX_DECIMALS, Instrument
from makerd.venues.hyperliquid.errors import FeedParseError

_BUILDER_DEX_BASE = 100_000
_BUILDER_DEX_STRIDE = 10_000

InfoQuery = Callable[[dict[str, object]], object]
"""Sends one ``/info`` body and returns the decoded answer."""


def dex_of(coin: str) -> str:
    """The perp dex a coin trades on: ``"xyz"`` for ``xyz:TSLA``, ``""`` for the main dex."""
    dex, colon, _ = coin.partition(":")
    return dex if colon else ""


class UnknownCoinError(KeyError):
    """A coin that is not in the venue's universe (or is delisted)."""

    def __init__(self, coin: str, known: list[str]) -> None:
        close = difflib.get_close_matches(coin, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        super().__init__(f"coin {coin!r} is not in the venue's universe{hint}")
        self.coin = coin

    def __str__(self) -> str:
        # KeyError's str() is the repr of its argument; show the sentence instead.
        return str(self.args[0])


class UnknownDexError(UnknownCoinError):
    """A ``dex:COIN`` name whose dex the venue does not list in ``perpDexs``."""

    def __init__(self, coin: str, known: list[str]) -> None:
        dex = dex_of(coin)
        close = difflib.get_close_matches(dex, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        listed = ", ".join(known) or "none"
        KeyError.__init__(
            self,
            f"coin {coin!r}: the venue lists no perp dex {dex!r} (builder dexes: {listed}){hint}",
        )
        self.coin = coin


def parse_meta(
    payload: object, *, include_delisted: bool = False, dex_index: int = 0
) -> dict[str, Instrument]:
    """Parse a ``{"type": "meta"}`` response into instruments keyed by coin name."""
    universe = _universe_of(payload)
    offset = 0 if dex_index == 0 else _BUILDER_DEX_BASE + _BUILDER_DEX_STRIDE * dex_index
    instruments: dict[str, Instrument] = {}
    for index, entry in enumerate(universe):
        if not isinstance(entry, dict):
            raise FeedParseError("meta", f"universe[{index}] is not an object")
        if entry.get("isDelisted") is True and not include_delisted:
            continue
        instrument = _instrument_from(entry, index, offset)
        instruments[instrument.coin] = instrument
    return instruments


def parse_meta_and_asset_ctxs(
    payload: object, *, include_delisted: bool = False, dex_index: int = 0
) -> dict[str, Instrument]:
    """Parse a ``metaAndAssetCtxs`` response (``[meta, ctxs]``); the contexts are ignored."""
    if not isinstance(payload, list) or len(payload) != 2:
        raise FeedParseError("metaAndAssetCtxs", "expected a [meta, assetCtxs] pair")
    return parse_meta(payload[0], include_delisted=include_delisted, dex_index=dex_index)


def instrument_for(instruments: Mapping[str, Instrument], coin: str) -> Instrument:
    """The instrument for ``coin``, or :class:`UnknownCoinError` naming close matches."""
    instrument = instruments.get(coin)
    if instrument is None:
        raise UnknownCoinError(coin, sorted(instruments))
    return instrument


def parse_perp_dexs(payload: object) -> tuple[str, ...]:
    """Parse ``perpDexs`` (``[null, {"name": "xyz", ...}, ...]``) into names by dex index.

    Entry 0 is the main dex (``null``, named ``""`` here); a builder dex's index is its
    position in this list, which is what offsets its asset ids.
    """
    if not isinstance(payload, list) or not payload or payload[0] is not None:
        raise FeedParseError("perpDexs", "expected a list starting with null (the main dex)")
    names = [""]
    for index, entry in enumerate(payload[1:], start=1):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            raise FeedParseError("perpDexs", f"entry {index} has no name")
        names.append(name)
    return tuple(names)


@dataclass(frozen=True, slots=True, kw_only=True)
class Listing:
    """A coin's instrument, and every coin listed on its perp dex (read in the same answer)."""

    instrument: Instrument
    listed: frozenset[str]


def listed_coins(listings: Iterable[Listing]) -> frozenset[str]:
    """Every coin the universes read at start list: what makes a coin ``unknown_coin``."""
    return frozenset(coin for listing in listings for coin in listing.listed)


def asking_once(query: InfoQuery) -> InfoQuery:
    """``query``, asking each distinct question once and answering a repeat from memory.

    Coins on one perp dex share its ``meta`` (weight 20 of the 1200 an IP may spend a
    minute): asked per coin, 32 coins spent half a minute's budget before the run began,
    outside the request budget that paces the rest. A retry after a failure does not ask
    again what was already answered. Only for start-up reads, which do not change while
    asked: the memory lives as long as the returned function."""
    answers: dict[str, object] = {}

    def once(body: dict[str, object]) -> object:
        key = json.dumps(body, sort_keys=True)
        if key not in answers:
            answers[key] = query(body)
        return answers[key]

    return once


def resolve_instrument(query: InfoQuery, coin: str) -> Instrument:
    """Find ``coin`` on its dex (see :func:`resolve_listing`)."""
    return resolve_listing(query, coin).instrument


def resolve_listing(query: InfoQuery, coin: str) -> Listing:
    """Find ``coin`` on its dex: ``meta`` for the main dex; ``perpDexs`` then that dex's
    ``meta`` for a ``dex:COIN`` name. Unknown dexes and coins raise :class:`UnknownCoinError`.
    The dex's other coins come from the same ``meta``: no second request.
    """
    dex = dex_of(coin)
    if not dex:
        instruments = parse_meta(query({"type": "meta"}))
    else:
        dexes = parse_perp_dexs(query({"type": "perpDexs"}))
        if dex not in dexes[1:]:
            raise UnknownDexError(coin, list(dexes[1:]))
        meta = query({"type": "meta", "dex": dex})
        instruments = parse_meta(meta, dex_index=dexes.index(dex))
    return Listing(instrument=instrument_for(instruments, coin), listed=frozenset(instruments))


def _universe_of(payload: object) -> list[object]:
    if not isinstance(payload, dict):
        raise FeedParseError("meta", "expected an object with a universe")
    universe = payload.get("universe")
    if not isinstance(universe, list):
        raise FeedParseError("meta", "universe is missing or not a list")
    return universe


def _instrument_from(entry: dict[str, object], index: int, offset: int) -> Instrument:
    name = entry.get("name")
    sz_decimals = entry.get("szDecimals")
    max_leverage = entry.get("maxLeverage", 1)
    if not isinstance(name, str) or not name:
        raise FeedParseError("meta", f"universe[{index}].name is not a string")
    if not _is_int(sz_decimals) or not 0 <= sz_decimals <= PERP_MAX_DECIMALS:
        raise FeedParseError("meta", f"{name}: szDecimals {sz_decimals!r} is not 0..6")
    if not _is_int(max_leverage) or max_leverage < 1:
        raise FeedParseError("meta", f"{name}: maxLeverage {max_leverage!r} is not positive")
    return Instrument(
        coin=name, asset_id=offset + index, sz_decimals=sz_decimals, max_leverage=max_leverage
    )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
