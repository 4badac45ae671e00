"""Builder-deployed (HIP-3) coins: resolving ``dex:COIN`` names, and the coin config rules.

Recorded mainnet responses (the SDK's cassettes, read in place) give the real ``meta``
shape; a builder dex's ``meta`` has the same shape with ``dex:COIN`` names, so the
recorded universe renamed that way stands in for one.
"""

from __future__ import annotations

from typing import Any

import pytest

from makerd.config.checks import coin_problem
from makerd.venues.hyperliquid.errors import FeedParseError
from makerd.venues.hyperliquid.meta import (
    UnknownCoinError,
    UnknownDexError,
    dex_of,
    parse_perp_dexs,
    resolve_instrument,
)
from tests.test_hl_parse import needs_cassettes, recorded

PERP_DEXS: list[Any] = [
    None,
    {"name": "flx", "fullName": "Felix", "deployer": "0x" + "1" * 40, "oracleUpdater": None},
    {"name": "xyz", "fullName": "XYZ", "deployer": "0x" + "2" * 40, "feeRecipient": None},
]


def recorded_meta() -> Any:
    return recorded("test_get_info", "meta")


def as_builder_dex(meta: Any, dex: str) -> Any:
    """The recorded universe as a builder dex lists it: every name prefixed ``dex:``."""
    universe = [{**entry, "name": f"{dex}:{entry['name']}"} for entry in meta["universe"]]
    return {**meta, "universe": universe}


class RecordingVenue:
    """Answers ``/info`` bodies from fixed responses and keeps every body it was asked."""

    def __init__(self, main_meta: Any, dex_metas: dict[str, Any]) -> None:
        self.asked: list[dict[str, object]] = []
        self._main_meta = main_meta
        self._dex_metas = dex_metas

    def __call__(self, body: dict[str, object]) -> object:
        self.asked.append(body)
        if body["type"] == "perpDexs":
            return PERP_DEXS
        dex = body.get("dex", "")
        return self._main_meta if dex == "" else self._dex_metas[str(dex)]


@needs_cassettes
def test_a_builder_dex_coin_gets_the_exchanges_offset_asset_id() -> None:
    meta = recorded_meta()
    venue = RecordingVenue(meta, {"xyz": as_builder_dex(meta, "xyz")})
    eth_index = [entry["name"] for entry in meta["universe"]].index("ETH")

    instrument = resolve_instrument(venue, "xyz:ETH")

    # xyz is the second builder dex in perpDexs (index 2): 100000 + 2 * 10000 + index.
    assert instrument.asset_id == 120_000 + eth_index
    assert instrument.coin == "xyz:ETH"
    assert instrument.sz_decimals == 4  # the recorded ETH rules carry over
    assert venue.asked == [{"type": "perpDexs"}, {"type": "meta", "dex": "xyz"}]


@needs_cassettes
def test_a_main_dex_coin_is_resolved_with_one_meta_query_as_before() -> None:
    venue = RecordingVenue(recorded_meta(), {})

    instrument = resolve_instrument(venue, "BTC")

    assert (instrument.asset_id, instrument.sz_decimals) == (0, 5)
    assert venue.asked == [{"type": "meta"}]


@needs_cassettes
def test_an_unlisted_dex_names_the_dexes_the_venue_has() -> None:
    venue = RecordingVenue(recorded_meta(), {})

    with pytest.raises(UnknownDexError, match=r"no perp dex 'xyy'.*flx, xyz.*did you mean xyz"):
        resolve_instrument(venue, "xyy:ETH")
    assert {"type": "meta", "dex": "xyy"} not in venue.asked


@needs_cassettes
def test_a_coin_missing_from_its_dex_is_an_unknown_coin_with_close_matches() -> None:
    meta = recorded_meta()
    venue = RecordingVenue(meta, {"xyz": as_builder_dex(meta, "xyz")})

    with pytest.raises(UnknownCoinError, match=r"'xyz:ETC'.*did you mean .*xyz:ETH"):
        resolve_instrument(venue, "xyz:ETC")


def test_dex_of_splits_the_builder_dex_from_the_coin() -> None:
    assert [dex_of(coin) for coin in ("xyz:TSLA", "BTC", "@107")] == ["xyz", "", ""]


def test_perp_dexs_lists_the_main_dex_first_then_builder_dexes_by_index() -> None:
    assert parse_perp_dexs(PERP_DEXS) == ("", "flx", "xyz")
    assert parse_perp_dexs([None]) == ("",)


@pytest.mark.parametrize(
    "payload", [[], {"name": "xyz"}, [{"name": "xyz"}], [None, {"fullName": "no name"}], [None, 7]]
)
def test_a_malformed_perp_dexs_answer_is_a_parse_error_not_a_wrong_id(payload: object) -> None:
    with pytest.raises(FeedParseError, match="perpDexs"):
        parse_perp_dexs(payload)


@pytest.mark.parametrize("coin", ["xyz:TSLA", "flx:XMR", "BTC", "kPEPE", "@107"])
def test_single_coins_and_builder_dex_coins_are_valid_coin_names(coin: str) -> None:
    assert coin_problem(coin) is None


@pytest.mark.parametrize("coin", ["BTC,ETH", "BTC, ETH", "BTC ETH", "BTC;ETH", "xyz:TSLA,BTC"])
def test_a_list_of_coins_in_one_name_says_where_several_coins_go(coin: str) -> None:
    problem = coin_problem(coin)

    assert problem is not None
    assert "list several under coins:" in problem


@pytest.mark.parametrize("coin", ["xyz:", ":TSLA", "xyz:TSLA:X", "x-y:TSLA", "xyz::TSLA"])
def test_a_malformed_builder_dex_name_says_how_hip3_coins_are_named(coin: str) -> None:
    problem = coin_problem(coin)

    assert problem is not None
    assert "dex:COIN" in problem
    assert repr(coin) in problem
