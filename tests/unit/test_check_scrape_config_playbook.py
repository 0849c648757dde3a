# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The vmstack.monitoring.check_scrape_config playbook, run by its FQCN as a user of the installed collection runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ansible import release as ansible_release

pytest.importorskip("ansible")

ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")

GOOD = "scrape_configs:\n  - job_name: node\n    static_configs: [{targets: ['node1:9100']}]\n"
# Two errors in one file: a Prometheus-only key and a relabel rule with an unknown action.
BAD = (
    "global:\n  evaluation_interval: 1m\n"
    "scrape_configs:\n  - job_name: node\n    static_configs: [{targets: ['node1:9100']}]\n"
    "    relabel_configs: [{action: keepp, source_labels: [a]}]\n"
)
# Accepted by the binary, but the timeout is cut to the interval: a warning only.
WARNS = "scrape_configs:\n  - job_name: node\n    scrape_interval: 10s\n    scrape_timeout: 20s\n" \
        "    static_configs: [{targets: ['node1:9100']}]\n"


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    for name, text in (("good.yml", GOOD), ("bad.yml", BAD), ("warns.yml", WARNS)):
        (tmp_path / name).write_text(text)
    (tmp_path / "copy-of-bad.yml").write_text(BAD)
    return tmp_path


def check(env: dict[str, str], cwd: Path, *extra_vars: str) -> subprocess.CompletedProcess[str]:
    arguments = [argument for value in extra_vars for argument in ("-e", value)]
    return subprocess.run([str(ANSIBLE_PLAYBOOK), "vmstack.monitoring.check_scrape_config", *arguments],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_good_files_given_relative_to_the_current_directory_pass(collection_env, configs):
    result = check(collection_env, configs, "vmstack_check_files=good.yml,warns.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"item={configs}/good.yml" in result.stdout
    assert "scrape_timeout" in result.stderr, "the warning about warns.yml is shown"


@pytest.mark.skipif(
    tuple(int(part) for part in ansible_release.__version__.split(".")[:2]) < (2, 19),
    reason="before ansible-core 2.19 a filter error inside a looped assert fails the whole task at the first "
           "refused file; the README says so",
)
def test_every_error_of_every_bad_file_is_reported_and_the_run_fails(collection_env, configs):
    result = check(collection_env, configs, "vmstack_check_files=good.yml,bad.yml,copy-of-bad.yml")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for name in ("bad.yml", "copy-of-bad.yml"):
        assert f"{configs}/{name} would be refused by VictoriaMetrics (2 error(s))" in output
        assert f"{configs}/{name}:2: -: error: global.evaluation_interval" in output
        assert f"{configs}/{name}:6: node: error:" in output


def test_warnings_fail_the_run_when_asked(collection_env, configs):
    result = check(collection_env, configs, '{"vmstack_check_files": ["warns.yml"], "vmstack_check_fail_on_warnings": true}')
    assert result.returncode != 0
    assert "would be refused by VictoriaMetrics (1 error(s))" in result.stdout + result.stderr


def test_no_file_named_says_which_variable_to_set(collection_env, configs):
    result = check(collection_env, configs)
    assert result.returncode != 0
    assert "vmstack_check_files names no file on localhost" in result.stdout
