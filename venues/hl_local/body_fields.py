"""Typed values read out of an admin JSON body, with one problem noted per bad key.

A reader never raises: a bad value is noted in ``problems`` (``"<key>: expected …"``) and
read as the default, so a caller builds its request and then returns every problem at
once. Numbers must be finite and non-negative; booleans are never taken for numbers.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def is_address(value: Any) -> bool:
    """``0x`` and 40 hex digits."""
    return isinstance(value, str) and ADDRESS.match(value) is not None


class BodyFields:
    """Reads the keys of one JSON object; ``prefix`` names a nested one (``"sweep."``)."""

    def __init__(self, body: dict[str, Any], *, prefix: str = "") -> None:
        self.body = body
        self.prefix = prefix
        self.problems: list[str] = []

    def bad(self, key: str, expected: str) -> None:
        self.problems.append(f"{self.prefix}{key}: expected {expected}")

    def unknown(self, known: frozenset[str]) -> None:
        self.problems += [
            f"{self.prefix}{key}: unknown key" for key in self.body if key not in known
        ]

    def required(self, *keys: str) -> None:
        self.problems += [
            f"{self.prefix}{key}: missing" for key in keys if self.body.get(key) is None
        ]

    def flag(self, key: str) -> bool:
        value = self.body.get(key, False)
        if type(value) is not bool:
            self.bad(key, "true or false")
            return False
        return value

    def count(self, key: str) -> int:
        value = self.body.get(key, 0)
        if type(value) is not int or value < 0:
            self.bad(key, "a non-negative integer")
            return 0
        return value

    def seconds(self, key: str) -> float | None:
        """A duration; ``None`` when absent."""
        value = self.body.get(key)
        if value is None:
            return None
        number = _finite_non_negative(value)
        if number is None:
            self.bad(key, "a finite, non-negative number of seconds")
        return number

    def integer_in(self, key: str, low: int, high: int, default: int) -> int:
        value = self.body.get(key, default)
        if type(value) is not int or not low <= value <= high:
            self.bad(key, f"an integer from {low} to {high}")
            return default
        return value

    def number_in(self, key: str, low: float, high: float, default: float) -> float:
        """A finite number from ``low`` to ``high``; ``default`` when absent."""
        value = self.body.get(key, default)
        number = _finite_non_negative(value)
        if number is None or not low <= number <= high:
            self.bad(key, f"a number from {low:g} to {high:g}")
            return default
        return number

    def text(self, key: str) -> str | None:
        value = self.body.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            self.bad(key, "a non-empty string")
            return None
        return value

    def choice(self, key: str, options: tuple[str, ...]) -> str | None:
        value = self.body.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or value not in options:
            self.problems.append(
                f"{self.prefix}{key}: {value!r} is not listed (one of {', '.join(options)})"
            )
            return None
        return value

    def choices(self, key: str, options: tuple[str, ...]) -> frozenset[str] | None:
        """A non-empty list of options; ``None`` when absent."""
        value = self.body.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not value or any(item not in options for item in value):
            self.bad(key, f"a non-empty list of {', '.join(map(repr, options))}")
            return None
        return frozenset(value)

    def address(self, key: str) -> str | None:
        """An address, lowercased; ``None`` when absent."""
        value = self.body.get(key)
        if value is None:
            return None
        if not is_address(value):
            self.bad(key, "an address (0x and 40 hex digits)")
            return None
        return str(value).lower()

    def percent(self, key: str) -> Decimal | None:
        """A percentage above -100 and at most 1000; ``None`` when absent."""
        value = self.body.get(key)
        if value is None:
            return None
        number = _decimal(value)
        if number is None or not number.is_finite() or not -100 < number <= _MAX_PERCENT:
            self.bad(key, f"a number of percent above -100 and at most {_MAX_PERCENT}")
            return None
        return number


_MAX_PERCENT = 1000
"""A jump past ten times the price is no market move a test needs, and keeps prices finite."""


def _decimal(value: Any) -> Decimal | None:
    if type(value) not in (int, float, str):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _finite_non_negative(value: Any) -> float | None:
    if type(value) not in (int, float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) and number >= 0 else None
