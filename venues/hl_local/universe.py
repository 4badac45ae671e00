"""The local venue's perpetual universe and the wire formatting of its numbers.

Three perps mirror the cases a client must handle: BTC (szDecimals 5, integer ticks at
its price), ETH (szDecimals 4, 0.1 ticks) and DOGE (szDecimals 0: whole-coin lots,
five-decimal prices).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from protocol.instrument import Instrument

JsonDict = dict[str, Any]

USDC_TOKEN_ID = "0x6d1e7cde53ba9467b783cb7c530ce054"


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedPerp:
    """One perp of the universe: its trading rules and the synthetic market's start price."""

    instrument: Instrument
    start_mid: Decimal

    @property
    def coin(self) -> str:
        return self.instrument.coin


DEFAULT_PERPS: tuple[ListedPerp, ...] = (
    ListedPerp(
        instrument=Instrument(coin="BTC", asset_id=0, sz_decimals=5, max_leverage=50),
        start_mid=Decimal(100000),
    ),
    ListedPerp(
        instrument=Instrument(coin="ETH", asset_id=1, sz_decimals=4, max_leverage=50),
        start_mid=Decimal(3000),
    ),
    ListedPerp(
        instrument=Instrument(coin="DOGE", asset_id=2, sz_decimals=0, max_leverage=20),
        start_mid=Decimal("0.2"),
    ),
)


class Universe:
    """Lookup of listed perps by coin name and by asset id."""

    def __init__(self, perps: tuple[ListedPerp, ...] = DEFAULT_PERPS) -> None:
        self.perps = perps
        self._by_coin = {perp.coin: perp for perp in perps}
        self._by_asset = {perp.instrument.asset_id: perp for perp in perps}

    @property
    def coins(self) -> tuple[str, ...]:
        return tuple(perp.coin for perp in self.perps)

    def by_coin(self, coin: str) -> ListedPerp | None:
        return self._by_coin.get(coin)

    def by_asset(self, asset_id: int) -> ListedPerp | None:
        return self._by_asset.get(asset_id)

    def meta_json(self) -> JsonDict:
        """The ``meta`` info response."""
        universe = [
            {
                "name": perp.coin,
                "szDecimals": perp.instrument.sz_decimals,
                "maxLeverage": perp.instrument.max_leverage,
                "marginTableId": perp.instrument.max_leverage,
            }
            for perp in self.perps
        ]
        leverages = sorted({perp.instrument.max_leverage for perp in self.perps})
        margin_tables = [
            [
                leverage,
                {
                    "description": "",
                    "marginTiers": [{"lowerBound": "0.0", "maxLeverage": leverage}],
                },
            ]
            for leverage in leverages
        ]
        return {"universe": universe, "marginTables": margin_tables, "collateralToken": 0}

    @staticmethod
    def spot_meta_json() -> JsonDict:
        """A ``spotMeta`` with USDC only: enough for the SDK's ``Info`` constructor."""
        usdc = {
            "name": "USDC",
            "szDecimals": 8,
            "weiDecimals": 8,
            "index": 0,
            "tokenId": USDC_TOKEN_ID,
            "isCanonical": True,
            "evmContract": None,
            "fullName": None,
        }
        return {"universe": [], "tokens": [usdc]}


def wire_decimal(value: Decimal) -> str:
    """Format like the exchange: no exponent, no trailing zeros, at least one decimal.

    The exchange prints ``"113377.0"`` and ``"0.0"``; clients parse these as decimals.
    """
    text = format(value.normalize(), "f")
    if text in {"-0", "0"}:
        return "0.0"
    return text if "." in text else f"{text}.0"


def wire_price_short(value: Decimal) -> str:
    """Format as the exchange does inside error texts (``bbo was 64990@64991``)."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text
