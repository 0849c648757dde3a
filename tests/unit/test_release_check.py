# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The release's own binaries judging configs on the controller (plugin_utils.release_check and its action).

The dry runs use the real binaries: Debian's vmalert, vmagent and amtool on
this machine, and for the action a release archive of the test bench's
offline directory (each test skips, saying so, when its binary is absent).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.vmstack.monitoring.plugins.plugin_utils import release_check
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.release_check import (
    alertmanager_config_refusal,
    names_host_files,
    rule_file_refusals,
    scrape_config_refusal,
    why_not_runnable,
)


def binary(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed on this machine (tests/bench/setup-machine.sh installs it)")
    return path


GOOD_RULES = "groups:\n- name: up\n  rules:\n  - alert: Down\n    expr: up == 0\n"
# An unclosed parenthesis: the collection's own rule checker does not parse MetricsQL.
BAD_RULES = "groups:\n- name: sums\n  rules:\n  - record: job:x:sum\n    expr: sum(rate(x[5m])\n"
GOOD_SCRAPE = "scrape_configs:\n- job_name: node\n  static_configs: [{targets: ['node1:9100']}]\n"
PROMETHEUS_ONLY = "global:\n  evaluation_interval: 1m\n" + GOOD_SCRAPE
ALERTMANAGER = (
    "route: {receiver: ops}\n"
    "receivers:\n- name: ops\n  webhook_configs: [{url: 'http://hook.example.org/x'}]\n"
    "templates: ['/etc/alertmanager/templates/titles.tmpl']\n"
)


def test_each_refused_rule_file_is_named_as_on_the_host():
    refusals = rule_file_refusals(binary("vmalert"), {"good.yml": GOOD_RULES, "bad.yml": BAD_RULES}, "/etc/vmalert/rules")
    assert list(refusals) == ["bad.yml"]
    assert '"/etc/vmalert/rules/bad.yml"' in refusals["bad.yml"]
    assert "sum(rate(x[5m])" in refusals["bad.yml"]
    assert "vmstack-check-" not in refusals["bad.yml"], "the temporary copy is never named"


def test_accepted_rule_files_give_no_refusal():
    assert rule_file_refusals(binary("vmalert"), {"good.yml": GOOD_RULES}, "/etc/vmalert/rules") == {}


def test_a_prometheus_only_field_is_refused_by_the_strict_parser_only():
    vmagent = binary("vmagent")
    refusal = scrape_config_refusal(vmagent, PROMETHEUS_ONLY, "/etc/vmagent/scrape.yml", strict=True)
    assert refusal and "evaluation_interval" in refusal
    assert "/etc/vmagent/scrape.yml" in refusal and "vmstack-check-" not in refusal
    assert scrape_config_refusal(vmagent, PROMETHEUS_ONLY, "/etc/vmagent/scrape.yml", strict=False) is None
    assert scrape_config_refusal(vmagent, GOOD_SCRAPE, "/etc/vmagent/scrape.yml", strict=True) is None


@pytest.mark.parametrize("text, expected", [
    (GOOD_SCRAPE, False),
    ("scrape_configs:\n- job_name: a\n  basic_auth: {username: u, password_file: /etc/vmagent/pw}\n", True),
    ("scrape_configs:\n- job_name: a\n  file_sd_configs: [{files: [/etc/vmagent/targets/*.json]}]\n", True),
    ("scrape_configs: [unclosed\n", False),
])
def test_configs_that_name_host_files_are_recognised(text, expected):
    assert names_host_files(text) is expected


def test_a_broken_template_is_refused_and_named(tmp_path: Path):
    template = tmp_path / "titles.tmpl"
    template.write_text('{{ define "title" }}{{ .CommonLabels.alertname\n')
    refusal = alertmanager_config_refusal(binary("amtool"), ALERTMANAGER, "/etc/alertmanager/alertmanager.yml",
                                          [str(template)], "/etc/alertmanager/templates")
    assert refusal and refusal.startswith("template: titles.tmpl:2: unclosed action"), refusal
    assert "vmstack-check-" not in refusal and "SUCCESS" not in refusal


def test_a_good_config_and_template_pass(tmp_path: Path):
    template = tmp_path / "titles.tmpl"
    template.write_text('{{ define "title" }}{{ .CommonLabels.alertname }}{{ end }}\n')
    assert alertmanager_config_refusal(binary("amtool"), ALERTMANAGER, "/etc/alertmanager/alertmanager.yml",
                                       [str(template)], "/etc/alertmanager/templates") is None


def test_a_route_to_a_missing_receiver_is_refused():
    config = ALERTMANAGER.replace("receiver: ops", "receiver: nobody").replace("templates: [", "templates: []\n#")
    refusal = alertmanager_config_refusal(binary("amtool"), config, "/etc/alertmanager/alertmanager.yml", [],
                                          "/etc/alertmanager/templates")
    assert refusal and "nobody" in refusal


@pytest.mark.parametrize("system, machine, host_arch, runnable", [
    ("Linux", "x86_64", "amd64", True),
    ("Linux", "aarch64", "arm64", True),
    ("Linux", "x86_64", "arm64", False),
    ("Darwin", "arm64", "arm64", False),
])
def test_the_controller_runs_only_releases_built_for_it(monkeypatch, system, machine, host_arch, runnable):
    monkeypatch.setattr(release_check.platform, "system", lambda: system)
    monkeypatch.setattr(release_check.platform, "machine", lambda: machine)
    reason = why_not_runnable(host_arch)
    assert (reason == "") is runnable
    if not runnable:
        assert host_arch in reason or system in reason


# -- the action, run by ansible-playbook on a release of the bench's offline directory ---------------

ARTIFACTS = Path(os.environ.get("VMSTACK_ARTIFACTS", Path.home() / ".cache/vmstack-test/artifacts"))
VM_VERSION = "1.79.5"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")


def run_check(collection_env: dict[str, str], tmp_path: Path, **check: object) -> dict:
    vmutils = ARTIFACTS / "VictoriaMetrics" / f"v{VM_VERSION}" / f"vmutils-linux-amd64-v{VM_VERSION}.tar.gz"
    if not vmutils.is_file():
        pytest.skip(f"{vmutils} is missing (tests/bench/build-artifacts.sh makes it)")
    task = {
        "vmstack.monitoring.release_check": {
            "release": {
                "source": "local", "local_dir": str(ARTIFACTS), "project": "VictoriaMetrics", "version": VM_VERSION,
                "archive": vmutils.name, "checksums": f"vmutils-linux-amd64-v{VM_VERSION}_checksums.txt",
                "binaries": [{"src": "vmagent-prod", "name": "vmagent-prod"}],
            },
            "binary": "vmagent-prod", "cache_dir": str(tmp_path / "cache"), "path": "/etc/vmagent/scrape.yml",
            **check,
        },
        "register": "outcome", "ignore_errors": True,
    }
    playbook = tmp_path / "check.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
        task, {"ansible.builtin.copy": {"content": "{{ outcome | to_json }}", "dest": str(tmp_path / "outcome.json")}},
    ]}]))
    run = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", str(playbook),
                          "-e", f"ansible_python_interpreter={sys.executable}"], env=collection_env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((tmp_path / "outcome.json").read_text())


SECRET_SCRAPE = (
    "global:\n  evaluation_interval: 1m\n"
    "scrape_configs:\n- job_name: node\n  basic_auth: {username: u, password: s3cr3t-value}\n"
    "  static_configs: [{targets: ['node1:9100']}]\n"
)


def test_the_action_refuses_with_secrets_masked(collection_env, tmp_path: Path):
    outcome = run_check(collection_env, tmp_path, arch="amd64", scrape_config=SECRET_SCRAPE,
                        secrets_from={"basic_auth": {"password": "s3cr3t-value"}})
    assert outcome["failed"] and outcome["checked"]
    assert outcome["msg"].startswith(f"vmagent-prod {VM_VERSION}, run on the controller, "
                                     "refuses /etc/vmagent/scrape.yml: ")
    assert "evaluation_interval" in outcome["msg"]
    assert "s3cr3t-value" not in json.dumps(outcome)


def test_the_action_leaves_another_architecture_to_the_host(collection_env, tmp_path: Path):
    outcome = run_check(collection_env, tmp_path, arch="s390x", scrape_config=PROMETHEUS_ONLY)
    assert not outcome.get("failed") and outcome["checked"] is False
    assert "s390x" in outcome["skip_reason"] and "on the host instead" in outcome["skip_reason"]
    assert not (tmp_path / "cache").exists(), "nothing fetched for a check that cannot run"
