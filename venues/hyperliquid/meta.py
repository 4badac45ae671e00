"""The venue's ``meta`` → one :class:`Instrument` per perpetual.

A perp's asset id is its index in ``meta.universe`` (counting delisted entries, which
keep their slot); HIP-3 builder dexes offset it by ``100000 + 10000 * dex_index``
(the exchange's asset-id rule). Everything else (tick and lot rules, minimum notional) follows from
``szDecimals`` through :class:`Instrument`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TypeGuard

from protocol.instrument import PERP_MAX_DECIMALS, Instrument
from venues.hyperliquid.errors import FeedParseError

_BUILDER_DEX_BASE = 100_000
_BUILDER_DEX_STRIDE = 10_000


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
