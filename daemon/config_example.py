"""``makerd config example [sim|paper|live]``: the packaged configs, for a user without a clone."""

from __future__ import annotations

import importlib.metadata
import importlib.resources

EXAMPLES = {"sim": "sim.yaml", "paper": "paper.yaml", "live": "live.example.yaml"}


def example_text(mode: str) -> str:
    """The packaged config for ``mode`` (every key with its default, units and meaning)."""
    return importlib.resources.files("makerd.config").joinpath(EXAMPLES[mode]).read_text("utf-8")


def installed_version() -> str:
    try:
        return importlib.metadata.version("makerd")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"
