"""The one exception the config package raises for a config that cannot be used."""

from __future__ import annotations

from collections.abc import Iterable

MAX_REPORTED_PROBLEMS = 100
"""Past this many, the rest are counted, not listed: a hostile file must not flood stderr."""


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` holds every ``path: problem`` line."""

    def __init__(self, problems: Iterable[str], *, source: str) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        self.source = source
        shown = [f"{source}: {problem}" for problem in self.problems[:MAX_REPORTED_PROBLEMS]]
        hidden = len(self.problems) - len(shown)
        if hidden > 0:
            shown.append(f"{source}: ... and {hidden} more problems")
        super().__init__("\n".join(shown))
