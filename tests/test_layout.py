"""The package's shape: one import name, and imports that run one way.

The repository keeps one folder per layer; the distribution installs them all under the
single name ``makerd``, so makerd cannot collide with another distribution's ``config`` or
``supervisor`` (supervisord's package is called ``supervisor``).
"""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top: a layer may import its own modules and those of the layers below it.
LAYERS: dict[str, set[str]] = {
    "protocol": {"config"},
    "config": {"protocol"},
    "quoting": {"protocol", "config"},
    "venues": {"protocol", "config"},
    "supervision": set(),
    "supervisor": {"supervision"},
    "actors": {"protocol", "config", "quoting", "venues", "supervision", "supervisor"},
}
LAYER_NAMES = {*LAYERS, "daemon"}


def tracked_python_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    return [ROOT / name for name in listed if not (ROOT / name).is_symlink()]


def absolute_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def layer_of(path: Path) -> str:
    relative = path.relative_to(ROOT)
    return relative.stem if relative.parent == Path() else relative.parts[0]


def test_the_distribution_installs_one_import_name() -> None:
    distribution = importlib.metadata.distribution("makerd")
    top_level = distribution.read_text("top_level.txt")
    if top_level is None:  # an editable install may not write it: read the wheel's record
        top_level = "\n".join({str(name).split("/")[0] for name in (distribution.files or [])})
    names = {line.strip() for line in top_level.splitlines() if line.strip()}
    names = {name for name in names if not name.endswith((".dist-info", ".pth", "__pycache__"))}
    names = {name for name in names if not name.startswith("__editable__")}
    assert names == {"makerd"}


def test_no_module_imports_a_layer_by_its_bare_folder_name() -> None:
    """``import actors`` works in a checkout and fails once installed, and it would load a
    second copy of every class beside ``makerd.actors``."""
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in tracked_python_files()
        for name in absolute_imports(path)
        if name.split(".")[0] in LAYER_NAMES
    ]
    assert offenders == []


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_imports_run_one_way(layer: str) -> None:
    allowed = LAYERS[layer] | {layer}
    upward = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in tracked_python_files()
        if layer_of(path) == layer
        for name in absolute_imports(path)
        if name.startswith("makerd.") and name.split(".")[1] not in allowed
    ]
    assert upward == []


def test_the_command_line_starts_without_the_trading_stack() -> None:
    """Every makerd command builds every command's parser: `makerd ctl status`, a config
    check or a refused argument must not pay for the exchange client, the quoting maths or
    the plots (about 0.6 s of imports on a small machine)."""
    probe = (
        "import sys, makerd.daemon.cli; "
        "print(sorted(m for m in ('aiohttp', 'numpy', 'websockets', 'matplotlib', "
        "'hyperliquid', 'eth_account') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=60
    ).stdout.strip()

    assert loaded == "[]"
