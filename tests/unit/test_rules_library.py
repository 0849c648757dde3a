# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Tests for the vmalert rules library in roles/vmalert/files/rules/.

The promtool unit tests in tests/rules/ prove each alert's behaviour; these
tests run them, make sure every alert has them, and hold the library to its
conventions.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = REPO_ROOT / "roles/vmalert/files/rules"
RULE_TESTS_DIR = REPO_ROOT / "tests/rules"
LIBRARY_FILES = sorted(RULES_DIR.glob("*.yml"))
RULE_TEST_FILES = sorted(RULE_TESTS_DIR.glob("*.test.yml"))
VMALERT = Path("/usr/bin/vmalert")
PROMTOOL = shutil.which("promtool")
SEVERITIES = {"critical", "warning", "info"}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def library_rules() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in LIBRARY_FILES:
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                yield path, rule


def library_alerts() -> list[dict[str, Any]]:
    return [rule for _path, rule in library_rules() if "alert" in rule]


def alert_test_cases() -> Iterator[tuple[str, bool]]:
    """(alert name, whether the case expects it to fire) for every alert_rule_test."""
    for path in RULE_TEST_FILES:
        for test in load_yaml(path)["tests"]:
            for case in test.get("alert_rule_test", []):
                yield case["alertname"], bool(case.get("exp_alerts"))


ALERT_NAMES = sorted(rule["alert"] for rule in library_alerts())


def test_library_has_rule_files_and_tests() -> None:
    assert len(LIBRARY_FILES) >= 3
    assert RULE_TEST_FILES, "tests/rules/*.test.yml is missing"


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (apt-get install prometheus)")
def test_promtool_unit_tests_pass() -> None:
    run = subprocess.run(
        [str(PROMTOOL), "test", "rules", *[path.name for path in RULE_TEST_FILES]],
        cwd=RULE_TESTS_DIR, capture_output=True, text=True, check=False, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (apt-get install prometheus)")
def test_promtool_accepts_every_library_file() -> None:
    run = subprocess.run(
        [str(PROMTOOL), "check", "rules", *map(str, LIBRARY_FILES)], capture_output=True, text=True, check=False, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.skipif(not VMALERT.exists(), reason="needs /usr/bin/vmalert (Debian's victoria-metrics package)")
@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda path: path.name)
def test_vmalert_dry_run_accepts_library_file(path: Path) -> None:
    run = subprocess.run([str(VMALERT), "-dryRun", f"-rule={path}"], capture_output=True, text=True, check=False, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]


@pytest.mark.parametrize("alert_name", ALERT_NAMES)
def test_alert_has_a_firing_and_a_quiet_case(alert_name: str) -> None:
    expectations = {fires for name, fires in alert_test_cases() if name == alert_name}
    assert expectations == {True, False}, f"{alert_name}: add the missing case to tests/rules/"


def test_every_tested_alert_exists() -> None:
    # A renamed alert would otherwise leave its old tests passing on nothing.
    assert {name for name, _other in alert_test_cases()} <= set(ALERT_NAMES)


def test_alert_names_are_unique_across_the_library() -> None:
    assert len(ALERT_NAMES) == len(set(ALERT_NAMES)), [name for name in ALERT_NAMES if ALERT_NAMES.count(name) > 1]


def test_group_names_are_unique_across_the_library() -> None:
    names = [group["name"] for path in LIBRARY_FILES for group in load_yaml(path)["groups"]]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule", library_alerts(), ids=lambda rule: rule["alert"])
def test_alert_follows_the_conventions(rule: dict[str, Any]) -> None:
    assert rule.get("labels", {}).get("severity") in SEVERITIES
    assert {"summary", "description"} <= set(rule.get("annotations", {}))
    assert "for" in rule, "every alert waits before firing; add 'for:'"


def test_recorded_series_follow_level_metric_operations() -> None:
    records = [rule["record"] for _path, rule in library_rules() if "record" in rule]
    assert records
    assert all(len(name.split(":")) == 3 and all(name.split(":")) for name in records), records


@pytest.mark.parametrize("path", [*LIBRARY_FILES, *RULE_TEST_FILES], ids=lambda path: path.name)
def test_yaml_files_start_with_document_marker(path: Path) -> None:
    assert path.read_text().startswith("---\n")


def test_readme_lists_every_alert_and_record() -> None:
    readme = (RULES_DIR / "README.md").read_text()
    records = [rule["record"] for _path, rule in library_rules() if "record" in rule]
    missing = [name for name in ALERT_NAMES + records if f"`{name}`" not in readme]
    assert not missing, f"add to roles/vmalert/files/rules/README.md: {missing}"
