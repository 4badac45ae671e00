"""Each replayed coin's tick and lot rules, from where the backtest is told to take them.

``--meta`` (a saved meta response) and the recorder's rules file serve any number of coins;
``--tick``/``--lot`` describe one coin, so several coins without a rules file or ``--meta``
are refused, naming what is missing: a backtest never guesses a coin's rules.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from makerd.daemon.replay import InstrumentRulesError, instrument_from_meta, instrument_from_steps
from makerd.protocol.instrument import Instrument
from makerd.venues.hyperliquid.recording_rules import RULES_NAME, RulesFileError, load_rules


def replay_instruments(
    files: list[Path],
    coins: tuple[str, ...],
    *,
    meta: Path | None,
    tick: Decimal | None,
    lot: Decimal | None,
) -> tuple[Instrument, ...]:
    """Every coin's rules, in ``coins``' order; InstrumentRulesError when one is missing."""
    if meta is not None:
        if tick is not None or lot is not None:
            raise InstrumentRulesError("give --meta or --tick and --lot, not both")
        return tuple(instrument_from_meta(meta, coin) for coin in coins)
    if tick is None and lot is None:
        return tuple(recorded_instrument(files, coin, coins=coins) for coin in coins)
    if tick is None or lot is None:
        raise InstrumentRulesError("give both --tick and --lot, or neither")
    if len(coins) > 1:
        raise InstrumentRulesError(
            f"--tick and --lot give one coin's rules, not those of {', '.join(coins)}: "
            f"give --meta FILE (a saved meta response), or replay beside the {RULES_NAME} "
            "the recorder saved"
        )
    return (instrument_from_steps(coins[0], tick=tick, lot=lot),)


def recorded_instrument(
    files: list[Path], coin: str, *, coins: tuple[str, ...] | None = None
) -> Instrument:
    """``coin``'s rules from the rules file the recorder left beside the first file that
    has one; InstrumentRulesError when none does (a backtest never guesses them).

    ``coins``: every coin of the replay, named when the rules file is missing."""
    for directory in dict.fromkeys(path.parent for path in files):
        rules = directory / RULES_NAME
        if rules.is_file():
            try:
                return load_rules(rules, coin)
            except RulesFileError as error:
                raise InstrumentRulesError(str(error)) from None
    if coins is not None and len(coins) > 1:
        raise InstrumentRulesError(
            f"the rules of {', '.join(coins)} are missing: no {RULES_NAME} beside the "
            "recordings; give --meta FILE (a saved meta response with every coin) "
            "(--tick and --lot give one coin's rules only)"
        )
    raise InstrumentRulesError(
        f"the instrument's rules are missing: no {RULES_NAME} beside the recordings; "
        "give --meta FILE (a saved meta response) or both --tick and --lot"
    )
