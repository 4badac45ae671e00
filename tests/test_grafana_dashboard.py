"""deploy/grafana/makerd.json: importable as is, valid PromQL, and only metrics makerd serves."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import MakerdProcess, write_config
from tests.prometheus_kit import DEPLOY, NOT_INSTALLED

DASHBOARD = DEPLOY / "grafana" / "makerd.json"
METRIC_NAME = re.compile(r"\b((?:makerd|process)_[a-z0-9_]+)\b")
# Grafana's own variables, as Grafana would fill them in.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__range": "1h",
    "$instance": ".*",
    "$symbol": ".*",
}
WANTED_PANELS = [
    "PnL",
    "Drawdown",
    "Position and limits",
    "Quoted spread",
    "Fills by side and liquidity",
    "Order actions and rejections",
    "Tick-to-quote latency",
    "Feed health",
    "restarts",
    "Kill switch",
    "Request budget",
]


def dashboard() -> dict[str, Any]:
    loaded = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def expressions() -> list[str]:
    return [target["expr"] for panel in dashboard()["panels"] for target in panel["targets"]]


def filled(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def test_the_dashboard_has_every_panel_an_operator_looks_for() -> None:
    titles = " | ".join(panel["title"] for panel in dashboard()["panels"])

    missing = [wanted for wanted in WANTED_PANELS if wanted.lower() not in titles.lower()]

    assert missing == []


def test_the_dashboard_imports_as_is_with_a_datasource_picker() -> None:
    board = dashboard()
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    panels = board["panels"]

    assert board["uid"] == "makerd"
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert board["__inputs"] == [], "no import-time prompt: the datasource is a variable"
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        refs = [target["refId"] for target in panel["targets"]]
        assert len(set(refs)) == len(refs), panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def test_no_two_panels_overlap() -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard()["panels"]:
        grid = panel["gridPos"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, (panel["title"], cells.get((x, y)))
                cells[(x, y)] = panel["title"]


@pytest.mark.skipif(shutil.which("promtool") is None, reason=NOT_INSTALLED)
def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{index}", "expr": filled(expr)}
                    for index, expr in enumerate(expressions())
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")

    checked = subprocess.run(
        ["promtool", "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr


SELECTOR = re.compile(r"\b((?:makerd|process)_[a-z0-9_]+)\{([^}]*)\}")
MATCHER_LABEL = re.compile(r"(\w+)\s*(?:=~|!~|!=|=)")
TARGET_LABELS = {"job", "instance"}  # added by Prometheus at scrape time


def live_scrape(tmp_path: Path) -> dict[str, set[str]]:
    """Every family and sample name in a live scrape, with the label names it carries."""
    # A status line every 0.5 s, not 5 s: the first fill is seen when it happens.
    config = write_config(tmp_path / "status.yaml", {"status_interval_s": 0.5})
    args = ["run", "--config", str(config), "--state-dir", str(tmp_path / "state")]
    makerd = MakerdProcess([*args, "--metrics-port", "0"], cwd=tmp_path)
    try:
        port = makerd.metrics_port()
        makerd.wait_for(r"fills=[1-9].*state=normal", timeout=60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode("utf-8")
    finally:
        makerd.signal(signal.SIGTERM)
        makerd.finish()
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        labels.setdefault(family.name, set())  # declared before a first sample (feed_connected)
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
            labels[family.name].update(sample.labels)
    return labels


def test_every_metric_the_dashboard_queries_exists_in_a_live_scrape(tmp_path: Path) -> None:
    served = live_scrape(tmp_path)

    queried = {name for expr in expressions() for name in METRIC_NAME.findall(expr)}
    unknown_labels = [
        (name, label)
        for expr in expressions()
        for name, matchers in SELECTOR.findall(expr)
        for label in MATCHER_LABEL.findall(matchers)
        if served.get(name) and label not in served[name] | TARGET_LABELS
    ]

    assert queried, "the regex found the dashboard's metrics"
    assert sorted(queried - set(served)) == []
    assert unknown_labels == []
