"""Several fields wrong at once: the loader refuses or accepts, it never fails.

Each field's own range is checked field by field elsewhere; the checks between fields
(the ladder against the position limit, the sim's lot against the smallest level) were
once computed from values already refused, and ``sim.sz_decimals: 100`` beside any other
problem ended ``makerd check-config`` in a traceback. Seeded, so a failure repeats.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import yaml

from makerd.config.bounds import BOUNDS
from makerd.config.loader import ConfigError, load_config

CONFIGS = 400
FIELDS_PER_CONFIG = 4
VALUES: tuple[object, ...] = (0, 1, -1, 0.5, 2, 21, 1e-9, 3600, 10**9, 10**12, 1e300)


def _nested(path: str, value: object) -> dict[str, object]:
    head, _, rest = path.partition(".")
    return {head: _nested(rest, value) if rest else value}


def _merged(into: dict[str, object], more: dict[str, object]) -> dict[str, object]:
    for key, value in more.items():
        inner = into.get(key)
        if isinstance(value, dict) and isinstance(inner, dict):
            _merged(inner, value)
        else:
            into[key] = value
    return into


def _plain(number: object) -> object:
    return float(number) if isinstance(number, Decimal) else number


def test_random_combinations_of_extreme_fields_are_refused_or_accepted_never_a_crash(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261206)
    paths = sorted(BOUNDS)
    crashes = []
    for _ in range(CONFIGS):
        data: dict[str, object] = {}
        for path in rng.sample(paths, FIELDS_PER_CONFIG):
            ends = (_plain(BOUNDS[path].low), _plain(BOUNDS[path].high))
            _merged(data, _nested(path, rng.choice(VALUES + ends)))
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(data), "utf-8")
        try:
            load_config(config)
        except ConfigError:
            pass
        except Exception as error:  # any other failure is the finding
            crashes.append(f"{data}: {type(error).__name__}: {error}")

    assert crashes == [], "\n".join(crashes[:5])
