"""Users of the local venue: USDC balance, positions, leverage, fills and agent wallets.

Cross margin only, as a simple model: account value = balance + unrealized PnL at the
mark; an order may be placed while the margin of positions, open orders and the new
order at the coin's leverage stays within the account value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from makerd.venues.hl_local.nonces import NonceTracker
from makerd.venues.hl_local.records import ActionLog

FEE_QUANTUM = Decimal("0.000001")
ENTRY_QUANTUM = Decimal("0.00000001")
DEFAULT_LEVERAGE = 20
MAX_STORED_FILLS = 2000


@dataclass(slots=True)
class Position:
    """A signed position (negative = short) and its average entry price."""

    size: Decimal = Decimal(0)
    entry_px: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class FillOutcome:
    """What one fill did to an account, in the exchange's userFills vocabulary."""

    start_position: Decimal
    direction: str
    closed_pnl: Decimal
    fee: Decimal


@dataclass(slots=True, kw_only=True)
class Account:
    """One master account.

    ``fills`` keeps the most recent :data:`MAX_STORED_FILLS` (what ``userFills`` serves),
    ``fill_history`` every fill since start; ``actions`` logs its signed actions.
    """

    address: str
    balance: Decimal
    positions: dict[str, Position] = field(default_factory=dict)
    leverage: dict[str, int] = field(default_factory=dict)
    fills: list[dict[str, Any]] = field(default_factory=list)
    fill_history: list[dict[str, Any]] = field(default_factory=list)
    fundings: list[dict[str, Any]] = field(default_factory=list)
    """Every funding payment since start, oldest first (``userFunding`` entries' fields)."""
    actions: ActionLog = field(default_factory=ActionLog)
    cum_volume: Decimal = Decimal(0)
    n_requests: int = 0
    schedule_cancel_ms: int | None = None

    def position(self, coin: str) -> Position:
        return self.positions.setdefault(coin, Position())

    def leverage_for(self, coin: str, max_leverage: int) -> int:
        return self.leverage.get(coin, min(DEFAULT_LEVERAGE, max_leverage))

    def record_fill(self, fill: dict[str, Any]) -> None:
        self.fills.append(fill)
        self.fill_history.append(fill)
        if len(self.fills) > MAX_STORED_FILLS:
            del self.fills[0]

    def apply_fill(
        self, *, coin: str, is_buy: bool, price: Decimal, size: Decimal, fee_rate: Decimal
    ) -> FillOutcome:
        """Move the position and the balance for one fill; return the fill's bookkeeping."""
        position = self.position(coin)
        start = position.size
        signed = size if is_buy else -size
        closing = min(size, abs(start)) if start * signed < 0 else Decimal(0)
        closed_pnl = Decimal(0)
        if closing > 0:
            direction_sign = 1 if start > 0 else -1
            closed_pnl = closing * (price - position.entry_px) * direction_sign
        new_size = start + signed
        position.entry_px = _next_entry(position, price, size, closing, new_size)
        position.size = new_size
        fee = (price * size * fee_rate).quantize(FEE_QUANTUM)
        self.balance += closed_pnl - fee
        self.cum_volume += price * size
        return FillOutcome(
            start_position=start,
            direction=_direction(start, is_buy=is_buy, size=size),
            closed_pnl=closed_pnl,
            fee=fee,
        )

    def unrealized_pnl(self, marks: dict[str, Decimal]) -> Decimal:
        total = Decimal(0)
        for coin, position in self.positions.items():
            if position.size != 0 and coin in marks:
                total += position.size * (marks[coin] - position.entry_px)
        return total

    def account_value(self, marks: dict[str, Decimal]) -> Decimal:
        return self.balance + self.unrealized_pnl(marks)


def _next_entry(
    position: Position, price: Decimal, size: Decimal, closing: Decimal, new_size: Decimal
) -> Decimal:
    if new_size == 0:
        return Decimal(0)
    if closing == 0:
        held = abs(position.size)
        average = (position.entry_px * held + price * size) / (held + size)
        return average.quantize(ENTRY_QUANTUM)
    if (new_size > 0) != (position.size > 0):
        return price  # flipped through zero: the new side opened at this fill
    return position.entry_px


def _direction(start: Decimal, *, is_buy: bool, size: Decimal) -> str:
    if is_buy:
        if start >= 0:
            return "Open Long"
        return "Close Short" if size <= -start else "Short > Long"
    if start <= 0:
        return "Open Short"
    return "Close Long" if size <= start else "Long > Short"


class AccountRegistry:
    """Every account, the agent wallets that trade for them, and the signers' nonces."""

    def __init__(self, *, initial_usdc: Decimal, auto_provision: bool) -> None:
        self.initial_usdc = initial_usdc
        self.auto_provision = auto_provision
        self.nonces = NonceTracker()
        self._accounts: dict[str, Account] = {}
        self._agent_to_master: dict[str, str] = {}

    def get(self, address: str) -> Account | None:
        return self._accounts.get(address.lower())

    def all(self) -> list[Account]:
        return list(self._accounts.values())

    def fund(self, address: str, usdc: Decimal | None = None) -> Account:
        """Create the account if needed and set its USDC balance (initial amount by default)."""
        key = address.lower()
        amount = self.initial_usdc if usdc is None else usdc
        account = self._accounts.get(key)
        if account is None:
            account = Account(address=key, balance=amount)
            self._accounts[key] = account
        else:
            account.balance = amount
        return account

    def approve_agent(self, *, master: str, agent: str) -> None:
        self._agent_to_master[agent.lower()] = master.lower()

    def account_for_signer(self, signer: str) -> Account | None:
        """The account a signer trades for: its master if it is an agent, else itself."""
        key = signer.lower()
        master = self._agent_to_master.get(key)
        if master is not None:
            return self._accounts.get(master)
        account = self._accounts.get(key)
        if account is None and self.auto_provision:
            account = self.fund(key)
        return account
