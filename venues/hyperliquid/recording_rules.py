"""``instruments.json``: the recorded coins' tick and lot rules, kept beside the recordings.

A recording of prices without the rules they were quoted under cannot be replayed
faithfully: a backtest that guessed the lot would fill sizes the exchange refuses. So
every recorder (``makerd record``, and a trading run with ``feed.record_dir``) writes
what the exchange's ``meta`` said about its coins into ``instruments.json`` in the same
directory, and ``makerd backtest`` reads it from beside the files it replays::

    {"format": 1,
     "coins": {"BTC": {"asset_id": 0, "sz_decimals": 5, "max_decimals": 6,
                       "min_notional": "10", "max_leverage": 50}}}

Coins already in the file are kept (several recorders may share a directory); a coin
recorded again gets the exchange's newest rules. The file is replaced atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final

from makerd.protocol.instrument import Instrument

RULES_NAME: Final = "instruments.json"
FORMAT: Final = 1
_INT_FIELDS: Final = ("asset_id", "sz_decimals", "max_decimals", "max_leverage")


class RulesFileError(ValueError):
    """An ``instruments.json`` that is missing the coin or cannot be read."""


def save_rules(directory: Path, instruments: Iterable[Instrument]) -> Path:
    """Merge ``instruments`` into ``directory``'s rules file; its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RULES_NAME
    coins: dict[str, object] = {}
    if path.is_file():
        try:
            coins = dict(_coins_of(json.loads(path.read_text(encoding="utf-8")), path))
        except (OSError, ValueError):
            coins = {}  # unreadable: rewritten whole with what the exchange says now
    for instrument in instruments:
        coins[instrument.coin] = {
            "asset_id": instrument.asset_id,
            "sz_decimals": instrument.sz_decimals,
            "max_decimals": instrument.max_decimals,
            "min_notional": format(instrument.min_notional, "f"),
            "max_leverage": instrument.max_leverage,
        }
    text = json.dumps({"format": FORMAT, "coins": coins}, indent=2, sort_keys=True) + "\n"
    temporary = path.with_name(f".{RULES_NAME}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def load_rules(path: Path, coin: str) -> Instrument:
    """``coin``'s rules from the rules file at ``path``; RulesFileError naming the file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RulesFileError(f"{path}: cannot read ({error.strerror or error})") from None
    except ValueError as error:
        raise RulesFileError(f"{path}: not JSON ({error})") from None
    entry = _coins_of(document, path).get(coin)
    if entry is None:
        raise RulesFileError(f"{path}: no rules for {coin}")
    if not isinstance(entry, dict):
        raise RulesFileError(f"{path}: coins.{coin} is not an object")
    values: dict[str, int] = {}
    for name in _INT_FIELDS:
        value = entry.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RulesFileError(f"{path}: coins.{coin}.{name} must be a whole number >= 0")
        values[name] = value
    try:
        min_notional = Decimal(str(entry.get("min_notional")))
    except InvalidOperation:
        min_notional = Decimal("NaN")
    if not min_notional.is_finite() or min_notional < 0:
        raise RulesFileError(f"{path}: coins.{coin}.min_notional must be a decimal >= 0")
    if values["sz_decimals"] > values["max_decimals"]:
        raise RulesFileError(f"{path}: coins.{coin}.sz_decimals exceeds max_decimals")
    return Instrument(coin=coin, min_notional=min_notional, **values)


def _coins_of(document: object, path: Path) -> dict[str, object]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise RulesFileError(f"{path}: not an instruments file of format {FORMAT}")
    coins = document.get("coins")
    if not isinstance(coins, dict):
        raise RulesFileError(f"{path}: coins is not an object")
    return coins
