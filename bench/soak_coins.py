"""The soak's coins: each coin's config entry, which coin a targeted fault hits, and the
per-coin figures checked against the venue's own record of the account.

A coin's order size and position limit are in its own base units (docs/config.md,
"Several coins"), so each is sized here for the local venue's start price: about 200 USD an
order and 5000 USD of position, as the top-level defaults are for BTC.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from tests.faults.kit import OPEN_ORDER_BOUND, AccountRecord, LiveBot

SIZED: dict[str, tuple[str, str]] = {
    "BTC": ("0.002", "0.05"),  # the top-level defaults: 100000 USD a coin at the start
    "ETH": ("0.06", "1.5"),  # 3000 USD
    "DOGE": ("1000", "25000"),  # 0.2 USD
    "xyz:TSLA": ("0.8", "20"),  # 250 USD, on the builder dex
}
"""coin -> (quoting.order_size, risk.max_position), each in the coin's base units."""


def coin_sections(coins: tuple[str, ...]) -> dict[str, object]:
    """Config overrides for ``coins``: nothing for the single default BTC (the soak as it
    always ran), else a ``coins`` list with each coin's own size and position limit."""
    if coins == ("BTC",):
        return {}
    if len(coins) == 1:
        return {"coin": coins[0], **_sections_of(coins[0])}
    return {"coins": [{"coin": coin, **_sections_of(coin)} for coin in coins]}


def _sections_of(coin: str) -> dict[str, object]:
    if coin not in SIZED:
        raise SystemExit(f"--coins: no size for {coin}; known: {', '.join(SIZED)}")
    order_size, max_position = SIZED[coin]
    return {
        "quoting": {"order_size": float(order_size)},
        "risk": {"max_position": float(max_position)},
    }


class Targets:
    """Which coin the next fault of each kind hits: each kind rotates over the coins, each
    starting one coin further than the kind before it, so one round of the faults hits every
    coin (kill BTC, sweep ETH, jump xyz:TSLA; then kill ETH, ...), not the first coin thrice."""

    def __init__(self, coins: tuple[str, ...]) -> None:
        self.coins = coins
        self._next: Counter[str] = Counter()
        self._first: dict[str, int] = {}

    def next(self, kind: str) -> str:
        first = self._first.setdefault(kind, len(self._first))
        coin = self.coins[(first + self._next[kind]) % len(self.coins)]
        self._next[kind] += 1
        return coin

    def named(self, name: str, coin: str) -> str:
        """The fault's name in the recovery table: with the coin when there are several."""
        return name if len(self.coins) == 1 else f"{name} {coin}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CoinFigures:
    """One coin's end-of-run figures: the venue's record against the journal."""

    coin: str
    venue_fills: int
    journal_fills: int
    missing: int
    twice: int
    invented: int
    venue_position: Decimal
    journal_position: Decimal
    adjustments: int
    open_at_end: int
    peak_open: int

    def broken(self) -> list[str]:
        """Each invariant this coin broke, in words; empty when every one holds."""
        checks = [
            (self.missing == 0, f"{self.missing} venue fills never journaled"),
            (self.twice == 0, f"{self.twice} fills journaled twice"),
            (self.invented == 0, f"{self.invented} journal fills the venue never made"),
            (
                self.venue_position == self.journal_position,
                f"position venue {self.venue_position} journal {self.journal_position}",
            ),
            (self.adjustments == 0, f"{self.adjustments} position adjustments"),
            (self.peak_open <= OPEN_ORDER_BOUND, f"{self.peak_open} open at once"),
            (self.open_at_end == 0, f"{self.open_at_end} open after the stop"),
        ]
        return [f"{self.coin}: {problem}" for holds, problem in checks if not holds]


def coin_figures(bot: LiveBot, record: AccountRecord, coin: str) -> CoinFigures:
    journal = bot.journal_trade_ids(coin)
    at_venue = set(record.trade_ids_of(coin))
    return CoinFigures(
        coin=coin,
        venue_fills=len(at_venue),
        journal_fills=len(journal),
        missing=len(at_venue - set(journal)),
        twice=sum(1 for n in Counter(journal).values() if n > 1),
        invented=len(set(journal) - at_venue),
        venue_position=record.positions.get(coin, Decimal(0)),
        journal_position=bot.journal_position(coin),
        adjustments=len(bot.journal_adjustments(coin)),
        open_at_end=record.open_by_coin.get(coin, 0),
        peak_open=record.peak_by_coin.get(coin, 0),
    )


def print_coin_table(figures: list[CoinFigures]) -> None:
    print(
        "\n| coin | fills venue | journal | missing | twice | position venue | journal"
        " | adjustments | open at end | highest open (bound) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for f in figures:
        print(
            f"| {f.coin} | {f.venue_fills} | {f.journal_fills} | {f.missing} | {f.twice}"
            f" | {f.venue_position} | {f.journal_position} | {f.adjustments}"
            f" | {f.open_at_end} | {f.peak_open} ({OPEN_ORDER_BOUND}) |"
        )
