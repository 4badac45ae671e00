"""deploy/prometheus/ as promtool reads it: valid config and rules, every rule unit-tested."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from typing import Any

import pytest
import yaml

from tests.prometheus_kit import DEPLOY, NOT_INSTALLED, RULES

PROMETHEUS = DEPLOY / "prometheus"
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason=NOT_INSTALLED)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *args],
        cwd=PROMETHEUS,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"] if "alert" in rule]


@needs_promtool
def test_promtool_accepts_the_rules_and_the_scrape_config() -> None:
    rules = promtool("check", "rules", RULES.name)
    config = promtool("check", "config", "prometheus.yml")

    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert config.returncode == 0, config.stdout + config.stderr


@needs_promtool
def test_every_rule_passes_its_promtool_unit_tests() -> None:
    tested = promtool("test", "rules", "makerd-rules.test.yml")

    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_the_unit_tests_are_generated_from_the_current_rules_and_cover_every_alert() -> None:
    generated = subprocess.run(
        [sys.executable, str(PROMETHEUS / "rule_tests.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    document = yaml.safe_load(generated)
    tested = {
        case["alertname"] for test in document["tests"] for case in test.get("alert_rule_test", [])
    }
    firing = {
        case["alertname"]
        for test in document["tests"]
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }

    assert generated == (PROMETHEUS / "makerd-rules.test.yml").read_text(encoding="utf-8"), (
        "run: python deploy/prometheus/rule_tests.py > deploy/prometheus/makerd-rules.test.yml"
    )
    assert tested == {rule["alert"] for rule in alert_rules()}
    assert firing == tested, "every alert has a case where it fires"


def test_every_alert_has_a_severity_a_summary_and_a_runbook_line() -> None:
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert len(rule["annotations"]["runbook"]) > 40, rule["alert"]


def test_every_alert_is_listed_in_the_readme() -> None:
    readme = (PROMETHEUS / "README.md").read_text(encoding="utf-8")

    listed = set(re.findall(r"^\| `(Makerd\w+)` \|", readme, flags=re.MULTILINE))

    assert listed == {rule["alert"] for rule in alert_rules()}


def test_the_scrape_config_names_the_job_the_rules_select() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))

    jobs = [job["job_name"] for job in config["scrape_configs"]]

    assert jobs == ["makerd"]
    assert 'job="makerd"' in RULES.read_text(encoding="utf-8")
    assert config["rule_files"] == [RULES.name]


@pytest.mark.skipif(
    shutil.which("amtool") is None, reason="amtool (prometheus-alertmanager) is not installed"
)
def test_the_example_alertmanager_config_is_valid() -> None:
    checked = subprocess.run(
        ["amtool", "check-config", str(PROMETHEUS / "alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
