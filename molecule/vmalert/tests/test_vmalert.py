# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The vmalert role on a real systemd host, next to VictoriaMetrics and node_exporter.

Tests run in file order: the first ones only look, the later ones converge
again with rule files that vmalert or the controller-side check refuses, and
the last one changes the rules (the scenario is destroyed afterwards).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import yaml

from stacktest import PlaybookRun, http_get, query_vm, run_playbook, wait_for

SCENARIO = Path(__file__).resolve().parent.parent
REPO = SCENARIO.parent.parent
CONVERGE = SCENARIO / "converge.yml"
INVENTORY = SCENARIO / "inventory/hosts.yml"
LIBRARY = REPO / "roles/vmalert/files/rules"
HOST = "vmstack-vmalert"
UNIT = "/etc/systemd/system/vmalert.service"
RULES_DIR = "/etc/vmalert/rules"
VMALERT = "http://127.0.0.1:8880"
GROUPS = ["victoria_metrics", "node_exporter", "vmalert"]


def _load_ports_module() -> Any:
    """The collection's port registry, read straight from the checkout."""
    spec = importlib.util.spec_from_file_location("vmstack_ports", REPO / "plugins/module_utils/ports.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


PORTS = _load_ports_module()


def converge(extra_vars: dict[str, Any] | None = None, options: list[str] | None = None) -> PlaybookRun:
    """Run converge.yml as Molecule does: the container in its groups, plus inventory/hosts.yml."""
    return run_playbook(CONVERGE, [HOST], extra_vars=extra_vars, options=options,
                        groups={group: [HOST] for group in GROUPS}, inventories=[INVENTORY])


def converge_vmalert(extra_vars: dict[str, Any] | None = None, options: list[str] | None = None) -> PlaybookRun:
    """Converge only the vmalert role (the other plays' tasks are skipped by tag)."""
    return converge(extra_vars, ["--tags", "vmalert"] + (options or []))


def main_pid(host) -> str:
    return host.check_output("systemctl show --property MainPID --value vmalert")


def start_count(host) -> int:
    journal = host.check_output("journalctl --unit vmalert --no-pager --output cat")
    return len(re.findall(r"^Started vmalert\.service", journal, flags=re.MULTILINE))


def reload_count(host) -> int:
    """How many reloads systemd has finished for the service since the host booted."""
    journal = host.check_output("journalctl --unit vmalert --no-pager --output cat")
    return len(re.findall(r"^Reloaded vmalert\.service", journal, flags=re.MULTILINE))


def rules_dir_state(host) -> dict[str, str]:
    """File name -> sha256 of everything in the rules directory."""
    output = host.check_output(f"cd {RULES_DIR} && sha256sum -- * 2>/dev/null || true")
    return {name: digest for digest, name in (line.split(None, 1) for line in output.splitlines() if line)}


def loaded_groups(host) -> dict[str, str]:
    """Group name -> file of every group vmalert has loaded."""
    body = json.loads(http_get(host, f"{VMALERT}/api/v1/rules"))
    return {group["name"]: group["file"] for group in body["data"]["groups"]}


def library_groups() -> dict[str, str]:
    """Group name -> library file name for every group of the rules library."""
    return {
        group["name"]: path.name
        for path in sorted(LIBRARY.glob("*.yml"))
        for group in yaml.safe_load(path.read_text())["groups"]
    }


def unit_flags(host) -> list[str]:
    """The arguments of ExecStart, unquoted."""
    unit = host.file(UNIT).content_string
    exec_start = re.search(r"^ExecStart=((?:.*\\\n)*.*)$", unit, flags=re.MULTILINE)
    assert exec_start, unit
    return shlex.split(exec_start.group(1).replace("\\\n", " "))


# --- the converged host ------------------------------------------------------


def test_service_active_and_enabled(host):
    service = host.service("vmalert")
    assert service.is_running
    assert service.is_enabled


def test_health_endpoint_answers(host):
    assert http_get(host, f"{VMALERT}/health").strip() == "OK"


def test_rules_directory_holds_exactly_the_library(host):
    expected = {f"library-{path.name}": hashlib.sha256(path.read_bytes()).hexdigest() for path in LIBRARY.glob("*.yml")}
    assert rules_dir_state(host) == expected
    owners = host.check_output(f"stat --format '%U %G %a' {RULES_DIR}/*").splitlines()
    assert owners == ["root vmalert 640"] * len(expected)


def test_library_groups_are_loaded(host):
    groups = loaded_groups(host)
    for name, file_name in library_groups().items():
        assert name in groups, f"group {name} not loaded: {sorted(groups)}"
        assert groups[name] == f"{RULES_DIR}/library-{file_name}"


def test_unit_points_at_victoria_metrics_and_every_alertmanager(host):
    flags = unit_flags(host)
    vm = f"http://{HOST}:{PORTS.default_port('victoria_metrics')}"
    assert f"-datasource.url={vm}" in flags
    assert f"-remoteWrite.url={vm}" in flags
    assert f"-remoteRead.url={vm}" in flags
    assert f"-rule={RULES_DIR}/*.yml" in flags
    assert "-evaluationInterval=10s" in flags
    assert f"-httpListenAddr=:{PORTS.default_port('vmalert')}" in flags

    alertmanagers = yaml.safe_load(INVENTORY.read_text())["alertmanager"]["hosts"]
    expected = [
        f"-notifier.url=http://{name}:{(host_vars or {}).get('alertmanager_port', PORTS.default_port('alertmanager'))}"
        for name, host_vars in alertmanagers.items()
    ]
    assert [flag for flag in flags if flag.startswith("-notifier.url=")] == expected
    assert "-notifier.url=http://am-default.example.invalid:9093" in expected
    assert "-notifier.url=http://am-override.example.invalid:9193" in expected


def test_vmalert_knows_its_notifiers(host):
    metrics = http_get(host, f"{VMALERT}/metrics")
    assert 'addr="http://am-default.example.invalid:9093/api/v2/alerts"' in metrics
    assert 'addr="http://am-override.example.invalid:9193/api/v2/alerts"' in metrics


def test_service_user_and_hardening(host):
    assert host.user("vmalert").shell == "/usr/sbin/nologin"
    rules_dir = host.file(RULES_DIR)
    assert (rules_dir.user, rules_dir.group, rules_dir.mode) == ("root", "vmalert", 0o750)
    output = host.check_output("systemd-analyze security --no-pager vmalert.service")
    match = re.search(r"Overall exposure level for vmalert\.service: ([0-9.]+)", output)
    assert match and float(match.group(1)) < 4.0, output


def test_check_mode_on_the_converged_host_reports_nothing(host):
    run = converge_vmalert(options=["--check", "--diff"])
    assert run.returncode == 0, run.output
    assert run.changed(HOST) == 0, run.output


# --- rule files that must not go live ---------------------------------------


MISSPELT_SEVERITY = [{
    "name": "vmstack-test-misspelt",
    "rules": [{
        "alert": "VmstackTestAlwaysFiring",
        "expr": "vector(1)",
        "for": "1m",
        "labels": {"security": "warning"},
        "annotations": {"summary": "a test alert"},
    }],
}]


def test_misspelt_severity_fails_when_strict(host):
    """A 'security:' label is a warning of the controller-side check; vmalert_rules_strict makes it fatal."""
    state_before = rules_dir_state(host)
    run = converge_vmalert({"vmalert_rule_groups": MISSPELT_SEVERITY, "vmalert_rules_strict": True})
    assert run.returncode != 0
    assert "inline-groups.yml (from vmalert_rule_groups) would be refused by vmalert" in run.output, run.output
    assert "label 'security' looks like a misspelt 'severity'; write 'severity: warning'" in run.output
    assert rules_dir_state(host) == state_before


def test_controller_check_lists_every_problem_before_the_host_changes(host, tmp_path):
    user_file = tmp_path / "team-rules.yml"
    user_file.write_text(yaml.safe_dump({"groups": [{"name": "team", "rules": [
        {"record": "team:up:count", "expr": "count(up)"},
        {"record": "team:up:count", "expr": "count(up)"},
    ]}]}))
    bad_duration = [{"name": "vmstack-test-bad-for", "rules": [
        {"alert": "VmstackTestBadFor", "expr": "up == 0", "for": "5x", "labels": {"severity": "info"}},
    ]}]
    pid_before, state_before = main_pid(host), rules_dir_state(host)

    run = converge_vmalert({"vmalert_rule_files": [str(user_file)], "vmalert_rule_groups": bad_duration})

    assert run.returncode != 0
    # Both files, each with its finding, in one run.
    assert "user-team-rules.yml (from " in run.output, run.output
    assert "this record repeats the one on line" in run.output
    assert "inline-groups.yml (from vmalert_rule_groups)" in run.output
    assert "'5x' is not a duration" in run.output
    assert rules_dir_state(host) == state_before
    assert main_pid(host) == pid_before


def test_vmalert_refuses_a_bad_expression_and_keeps_its_rules(host):
    bad_expr = [{"name": "vmstack-test-bad-expr", "rules": [
        {"record": "vmstack:broken:sum", "expr": "sum(rate(node_cpu_seconds_total[5m])"},
    ]}]
    pid_before, state_before, groups_before = main_pid(host), rules_dir_state(host), loaded_groups(host)

    # The host's own check, as for a controller that cannot run the release
    # (the controller's check of the same file is tested by the stack scenario).
    run = converge_vmalert({"vmalert_rule_groups": bad_expr, "vmstack_release_checks": False})

    assert run.returncode != 0
    assert "refuses inline-groups.yml:\nnot installed, the live rules directory keeps what it had" in run.output, run.output
    assert f'in file "{RULES_DIR}/inline-groups.yml"' in run.output
    # vmalert 1.150.0's wording (1.79.5 put the group's name before the rule's).
    assert 'invalid expression for rule "vmstack:broken:sum": bad MetricsQL expr' in run.output
    refusal = run.output.split("refuses inline-groups.yml:", 1)[1]
    # The temporary copy's path (Ansible's or, under Mitogen, Mitogen's) is never shown.
    assert "ansible-tmp-" not in refusal and "ansible_mitogen_action_" not in refusal
    assert main_pid(host) == pid_before
    assert rules_dir_state(host) == state_before
    assert loaded_groups(host) == groups_before
    assert http_get(host, f"{VMALERT}/health").strip() == "OK"


def test_one_refused_rule_file_installs_none_of_the_run(host, tmp_path):
    """Every new file is checked before any goes live: the good file of the run stays out with the bad one."""
    good_file = tmp_path / "team-good.yml"
    good_file.write_text(yaml.safe_dump({"groups": [{"name": "vmstack-test-team-good", "rules": [
        {"record": "vmstack:team_good:count", "expr": "count(up)"},
    ]}]}))
    bad_expr = [{"name": "vmstack-test-bad-expr", "rules": [
        {"record": "vmstack:broken:sum", "expr": "sum(rate(node_cpu_seconds_total[5m])"},
    ]}]
    pid_before, state_before, groups_before = main_pid(host), rules_dir_state(host), loaded_groups(host)
    reloads_before = reload_count(host)

    run = converge_vmalert({"vmalert_rule_files": [str(good_file)], "vmalert_rule_groups": bad_expr,
                            "vmstack_release_checks": False})

    assert run.returncode != 0
    assert "refuses inline-groups.yml:\nnot installed, the live rules directory keeps what it had" in run.output, run.output
    assert "user-team-good.yml" not in run.output.split("refuses", 1)[1].split("\n", 1)[0]
    assert rules_dir_state(host) == state_before
    assert "user-team-good.yml" not in rules_dir_state(host)
    assert main_pid(host) == pid_before
    assert reload_count(host) == reloads_before
    assert loaded_groups(host) == groups_before
    # The staged copies went with the run.
    assert [name for name in host.check_output("ls -A /etc/vmalert").split() if name.startswith(".rules.")] == []


# --- the rules at work -------------------------------------------------------


def test_recorded_series_reach_victoria_metrics(host):
    """node-recording evaluates every minute, after a random delay of up to a minute."""
    assert wait_for(lambda: len(query_vm(host, "instance:node_cpu_utilisation:rate5m")) > 0, timeout=150, interval=3), (
        "no instance:node_cpu_utilisation:rate5m in VictoriaMetrics; vmalert log:\n"
        + host.check_output("journalctl --unit vmalert --no-pager --output cat --lines 30")
    )
    value = float(query_vm(host, "instance:node_cpu_utilisation:rate5m")[0]["value"][1])
    assert 0.0 <= value <= 1.0


RECORDING_AND_MISSPELT = [
    {"name": "vmstack-test-recording", "rules": [{"record": "vmstack:up:count", "expr": "count(up)"}]},
    *MISSPELT_SEVERITY,
]
STRAY_FILE = f"{RULES_DIR}/stray.yml"
STRAY_RULES = "groups:\n  - name: vmstack-test-stray\n    rules:\n      - record: vmstack:stray:count\n        expr: count(up)\n"


def test_rule_changes_reload_vmalert_without_a_restart(host):
    """New rules go live and a file the role does not manage goes away, with one reload and no restart.

    Not strict, the misspelt severity label is only a warning, and the file is installed.
    """
    host.check_output(f"printf %s {shlex.quote(STRAY_RULES)} > {STRAY_FILE} && chgrp vmalert {STRAY_FILE} && chmod 0640 {STRAY_FILE}")
    host.check_output("systemctl reload vmalert")
    assert wait_for(lambda: "vmstack-test-stray" in loaded_groups(host), timeout=20)
    pid_before, starts_before, reloads_before = main_pid(host), start_count(host), reload_count(host)

    run = converge_vmalert({"vmalert_rule_groups": RECORDING_AND_MISSPELT})

    assert run.returncode == 0, run.output
    assert "label 'security' looks like a misspelt 'severity'" in run.output, run.output
    assert reload_count(host) == reloads_before + 1
    assert set(rules_dir_state(host)) == {f"library-{path.name}" for path in LIBRARY.glob("*.yml")} | {"inline-groups.yml"}
    assert main_pid(host) == pid_before
    assert start_count(host) == starts_before
    assert wait_for(lambda: "vmstack-test-recording" in loaded_groups(host), timeout=20)
    groups = loaded_groups(host)
    assert groups["vmstack-test-recording"] == f"{RULES_DIR}/inline-groups.yml"
    assert "vmstack-test-stray" not in groups
    assert set(library_groups()) <= set(groups)
