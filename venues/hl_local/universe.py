"""The local venue's perpetual universe and the wire formatting of its numbers.

Three perps on the main dex mirror the cases a client must handle: BTC (szDecimals 5,
integer ticks at its price), ETH (szDecimals 4, 0.1 ticks) and DOGE (szDecimals 0:
whole-coin lots, five-decimal prices). One builder-deployed (HIP-3) dex, ``xyz``, lists
``xyz:TSLA`` the way the exchange lists such perps: named ``dex:COIN``, answered only by
``meta`` with ``"dex": "xyz"``, with asset id ``100000 + 10000 * dex_index + index``
(``perpDexs`` lists the main dex as entry 0, so ``xyz`` is 1 and TSLA is 110000).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from makerd.protocol.instrument import Instrument

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

    @property
    def dex(self) -> str:
        """The perp dex it trades on: ``""`` for the main dex."""
        dex, colon, _ = self.coin.partition(":")
        return dex if colon else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BuilderDex:
    """A builder-deployed perp dex as ``perpDexs`` describes it."""

    name: str
    full_name: str
    deployer: str
    fee_scale: Decimal
    """Its fills pay ``1 + fee_scale`` times the main dex's fee rates."""


BUILDER_DEX_BASE = 100_000
BUILDER_DEX_STRIDE = 10_000

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
    ListedPerp(
        instrument=Instrument(coin="xyz:TSLA", asset_id=110_000, sz_decimals=3, max_leverage=10),
        start_mid=Decimal(250),
    ),
)
DEFAULT_DEXES: tuple[BuilderDex, ...] = (
    BuilderDex(
        name="xyz",
        full_name="XYZ (local builder dex)",
        deployer="0x" + "5e" * 20,
        fee_scale=Decimal(1),
    ),
)


class Universe:
    """Lookup of listed perps by coin name and by asset id."""

    def __init__(
        self,
        perps: tuple[ListedPerp, ...] = DEFAULT_PERPS,
        dexes: tuple[BuilderDex, ...] = DEFAULT_DEXES,
    ) -> None:
        self.perps = perps
        self.dexes = dexes
        self._by_coin = {perp.coin: perp for perp in perps}
        self._by_asset = {perp.instrument.asset_id: perp for perp in perps}
        self._dex_index = {dex.name: index for index, dex in enumerate(dexes, start=1)}
        self._dex_index[""] = 0
        self._fee_scales = {dex.name: 1 + dex.fee_scale for dex in dexes}
        for dex_name in {perp.dex for perp in perps}:
            _check_asset_ids(self.dex_perps(dex_name), self._dex_index.get(dex_name))

    @property
    def coins(self) -> tuple[str, ...]:
        return tuple(perp.coin for perp in self.perps)

    def by_coin(self, coin: str) -> ListedPerp | None:
        return self._by_coin.get(coin)

    def by_asset(self, asset_id: int) -> ListedPerp | None:
        return self._by_asset.get(asset_id)

    def dex_perps(self, dex: str) -> tuple[ListedPerp, ...]:
        """The perps of one dex (``""``: the main dex), in ``meta`` order."""
        return tuple(perp for perp in self.perps if perp.dex == dex)

    def has_dex(self, dex: str) -> bool:
        return dex in self._dex_index

    def fee_scale(self, coin: str) -> Decimal:
        """How many times the main dex's fee rates a fill in ``coin`` pays."""
        perp = self._by_coin.get(coin)
        return Decimal(1) if perp is None else self._fee_scales.get(perp.dex, Decimal(1))

    def perp_dexs_json(self) -> list[JsonDict | None]:
        """The ``perpDexs`` info response: ``null`` for the main dex, then each builder dex."""
        listed: list[JsonDict | None] = [None]
        for dex in self.dexes:
            listed.append(
                {
                    "name": dex.name,
                    "fullName": dex.full_name,
                    "deployer": dex.deployer,
                    "oracleUpdater": None,
                    "feeRecipient": None,
                    "assetToStreamingOiCap": [],
                    "deployerFeeScale": wire_decimal(dex.fee_scale),
                }
            )
        return listed

    def meta_json(self, dex: str = "") -> JsonDict:
        """The ``meta`` info response for one dex (``""``: the main dex)."""
        perps = self.dex_perps(dex)
        universe = [
            {
                "name": perp.coin,
                "szDecimals": perp.instrument.sz_decimals,
                "maxLeverage": perp.instrument.max_leverage,
                "marginTableId": perp.instrument.max_leverage,
            }
            for perp in perps
        ]
        leverages = sorted({perp.instrument.max_leverage for perp in perps})
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


def _check_asset_ids(perps: tuple[ListedPerp, ...], dex_index: int | None) -> None:
    """A listing whose ids break the exchange's rule would test clients against a lie."""
    if dex_index is None:
        raise ValueError(f"{perps[0].coin}: its dex is not listed")
    offset = 0 if dex_index == 0 else BUILDER_DEX_BASE + BUILDER_DEX_STRIDE * dex_index
    for index, perp in enumerate(perps):
        if perp.instrument.asset_id != offset + index:
            raise ValueError(f"{perp.coin}: asset id must be {offset + index}")


def wire_decimal(value: Decimal) -> str:
    """Format like the exchange: no exponent, no trailing zeros, at least one decimal.

    The exchange prints ``"113377.0"`` and ``"0.0"``; clients parse these as decimals.
    """
    text = format(value.normalize(), "f")
    if text in {"-0", "0"}:
        return "0.0"
    return text if "." in text else f"{text}.0"
