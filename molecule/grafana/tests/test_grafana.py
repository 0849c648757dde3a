# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The grafana role on a real systemd host, with the Grafana STAND-IN.

Grafana cannot be downloaded here: the archive the role installs is the
stand-in that tests/bench/build-grafana-stand-in.sh packs in Grafana's layout
(a small Python program answering /api/health, /api/user and /api/search, and
recording `grafana cli admin reset-admin-password`). So these tests prove the
role's install, unit, restart, health-wait, configuration, provisioning and
password handling, not Grafana's reading of the files.

Tests run in file order: the later ones converge again with other variables.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from stacktest import artifacts_dir, container, http_get, run_playbook, wait_for
from grafana_scenario import CONVERGE, FRESH, GROUPS, NEW_VERSION, OLD_VERSION, SCENARIO

HOST = "vmstack-grafana"
BASE = "http://127.0.0.1:3000"
DASHBOARDS = "/var/lib/grafana/dashboards"
DATASOURCES = "/etc/grafana/provisioning/datasources/vmstack.yml"
CLI_LOG = "/var/lib/grafana/stand-in-cli.log"
NEW_PASSWORD = "Changed-by-the-test-0f9e8d"
# The grafana.com dashboard of the second run comes from a web server (the
# local mirror) standing in for grafana.com, into a fresh controller cache.
DASHBOARD_CACHE = Path(tempfile.gettempdir()) / "vmstack-grafana-dashboard-cache"


def second_run_vars() -> dict:
    """The second converge: a newer release, one dashboard and one datasource
    fewer, the grafana.com dashboard downloaded instead of read from a
    directory, and an admin password chosen in the variables."""
    return {
        "grafana_version": NEW_VERSION,
        "grafana_admin_password": NEW_PASSWORD,
        "grafana_dashboard_files": [str(SCENARIO / "files/dashboards/user-overview.json")],
        "grafana_datasources": [{"name": "VictoriaMetrics", "uid": "vmstack-metrics", "type": "prometheus",
                                 "url": "{{ grafana_datasource_url }}", "jsonData": {"httpMethod": "POST"}}],
        "grafana_dashboards_dir": "",
        "grafana_dashboards_url": os.environ["VMSTACK_MIRROR_URL"] + "/grafana.com-fixture/api/dashboards",
        "grafana_dashboards_cache_dir": str(DASHBOARD_CACHE),
    }


def grafana_api(host, path: str, password: str) -> tuple[int, str]:
    """Status and body of an authenticated request to the stand-in."""
    token = base64.b64encode(f"admin:{password}".encode()).decode()
    result = host.run(f"curl -sS -o /dev/stdout -w '\\n%{{http_code}}' -H 'Authorization: Basic {token}' {BASE}{path}")
    body, _newline, status = result.stdout.rpartition("\n")
    return int(status), body


def cli_calls(host) -> list[dict]:
    content = host.file(CLI_LOG).content_string if host.file(CLI_LOG).exists else ""
    return [json.loads(line) for line in content.splitlines() if line.strip()]


def start_count(host) -> int:
    journal = host.check_output("journalctl --unit grafana --no-pager --output cat")
    return len(re.findall(r"^Started grafana\.service", journal, flags=re.MULTILINE))


def generated_password(host) -> str:
    return host.check_output("cat /etc/grafana/admin-password").strip()


def ini_sections(host) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {"": {}}
    current = ""
    for line in host.file("/etc/grafana/grafana.ini").content_string.splitlines():
        if not line.strip() or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = {}
            continue
        key, _equals, value = line.partition(" = ")
        sections[current][key] = value
    return sections


# --- The converged host -----------------------------------------------------


def test_service_active_and_enabled(host):
    service = host.service("grafana")
    assert service.is_running
    assert service.is_enabled


def test_stand_in_answers_health(host):
    health = json.loads(http_get(host, f"{BASE}/api/health"))
    assert health == {"commit": "stand-in", "database": "ok", "version": OLD_VERSION}


def test_unit_runs_grafana_server_from_the_current_tree(host):
    unit = host.file("/etc/systemd/system/grafana.service").content_string
    assert (
        'ExecStart="/opt/grafana/current/bin/grafana" \\\n    "server" \\\n'
        '    "--config=/etc/grafana/grafana.ini" \\\n    "--homepath=/opt/grafana/current"\n'
    ) in unit
    assert "ReadWritePaths=/var/lib/grafana /var/log/grafana\n" in unit
    assert "ProtectSystem=strict\n" in unit and "ExecReload" not in unit
    assert host.run("systemd-analyze verify /etc/systemd/system/grafana.service").rc == 0


def test_systemd_security_exposure_is_low(host):
    output = host.check_output("systemd-analyze security --no-pager grafana.service")
    exposure = float(re.search(r"Overall exposure level for grafana\.service: ([0-9.]+)", output).group(1))
    assert exposure < 4.0, output


def test_release_tree_is_root_owned_with_a_current_link(host):
    current = host.file("/opt/grafana/current")
    assert current.is_symlink and current.linked_to == f"/opt/grafana/grafana-v{OLD_VERSION}"
    tree = host.file(f"/opt/grafana/grafana-v{OLD_VERSION}")
    assert tree.user == "root" and tree.group == "root"
    binary = host.file(f"/opt/grafana/grafana-v{OLD_VERSION}/bin/grafana")
    assert binary.user == "root" and binary.mode == 0o755
    assert host.file(f"/opt/grafana/grafana-v{OLD_VERSION}/conf/defaults.ini").exists


def test_grafana_writes_only_its_data_and_logs(host):
    database = host.file("/var/lib/grafana/grafana.db")
    assert database.user == "grafana"
    assert host.file("/var/log/grafana/grafana.log").user == "grafana"
    for path in ("/var/lib/grafana", "/var/log/grafana"):
        assert host.file(path).user == "grafana" and host.file(path).mode == 0o750
    dashboards = host.file(DASHBOARDS)
    assert dashboards.user == "root" and dashboards.group == "grafana"


def test_grafana_ini_is_merged_and_private(host):
    ini = host.file("/etc/grafana/grafana.ini")
    assert ini.user == "root" and ini.group == "grafana" and ini.mode == 0o640
    sections = ini_sections(host)
    assert sections["server"]["http_port"] == "3000" and sections["server"]["http_addr"] == ""
    assert sections["paths"] == {"data": "/var/lib/grafana", "logs": "/var/log/grafana",
                                 "plugins": "/var/lib/grafana/plugins", "provisioning": "/etc/grafana/provisioning"}
    assert sections["users"] == {"allow_org_create": "false", "allow_sign_up": "false", "default_theme": "light"}
    assert sections["auth.anonymous"]["enabled"] == "false"
    assert sections["analytics"]["reporting_enabled"] == "false"
    # '#' and ';' would start a comment: such values go in triple quotes.
    assert sections["smtp"]["password"] == '"""p#ss;word"""'
    assert sections["security"]["admin_user"] == "admin"
    assert sections["security"]["admin_password"] == generated_password(host)


def test_generated_secrets_are_kept_for_root_only(host):
    for path in ("/etc/grafana/admin-password", "/etc/grafana/secret-key"):
        secret = host.file(path)
        assert secret.user == "root" and secret.group == "root" and secret.mode == 0o600
        assert re.fullmatch(r"[A-Za-z0-9]{32}\n", secret.content_string)
    assert ini_sections(host)["security"]["secret_key"] == host.check_output("cat /etc/grafana/secret-key")
    assert host.file("/etc/grafana/.admin-password-applied").mode == 0o600


def test_generated_password_opens_grafana(host):
    status, body = grafana_api(host, "/api/user", generated_password(host))
    assert status == 200 and json.loads(body)["login"] == "admin"
    assert grafana_api(host, "/api/user", "admin")[0] == 401


def test_password_was_applied_once_as_grafana_from_stdin(host):
    calls = cli_calls(host)
    assert len(calls) == 1, calls  # the first converge; the idempotence run did not repeat it
    call = calls[0]
    assert call["uid"] == int(host.check_output("id -u grafana"))
    assert call["argv"] == ["--homepath", "/opt/grafana/current", "--config", "/etc/grafana/grafana.ini",
                            "admin", "reset-admin-password", "--password-from-stdin"]
    assert call["password_sha256"] == hashlib.sha256(generated_password(host).encode()).hexdigest()


def test_datasources_come_from_the_inventory_and_registry(host):
    provisioning = host.file(DATASOURCES)
    assert provisioning.user == "root" and provisioning.group == "grafana" and provisioning.mode == 0o640
    document = yaml.safe_load(provisioning.content_string)
    assert document["apiVersion"] == 1 and "deleteDatasources" not in document
    by_uid = {ds["uid"]: ds for ds in document["datasources"]}
    assert by_uid["vmstack-metrics"] == {
        "access": "proxy", "editable": False, "orgId": 1, "name": "VictoriaMetrics", "uid": "vmstack-metrics",
        "type": "prometheus", "url": "http://vm-1.example.invalid:8428", "jsonData": {"httpMethod": "POST"},
        "isDefault": True,
    }
    assert by_uid["scratch"]["isDefault"] is False


def test_dashboard_provider(host):
    document = yaml.safe_load(host.file("/etc/grafana/provisioning/dashboards/vmstack.yml").content_string)
    (provider,) = document["providers"]
    assert provider["type"] == "file" and provider["disableDeletion"] is False
    assert provider["options"]["path"] == DASHBOARDS
    assert provider["folder"] == "VictoriaMetrics stack"


def test_dashboards_are_valid_and_bound(host):
    names = sorted(host.file(DASHBOARDS).listdir())
    assert names == ["grafana-com-1860-r37.json", "user-extra.json", "user-overview.json", "vmstack-overview.json"]
    for name in names:
        file = host.file(f"{DASHBOARDS}/{name}")
        assert file.user == "root" and file.group == "grafana" and file.mode == 0o640
        text = file.content_string
        assert "${DS_" not in text, name
        dashboard = json.loads(text)
        assert dashboard["id"] is None and dashboard["uid"] and "__inputs" not in dashboard
    overview = json.loads(host.file(f"{DASHBOARDS}/vmstack-overview.json").content_string)
    datasource_variable = overview["templating"]["list"][0]
    assert datasource_variable["current"]["value"] == "vmstack-metrics"
    # Grafana's own {{...}} legends are not Jinja to Ansible: they arrive as written.
    shipped = json.loads((SCENARIO.parent.parent / "roles/grafana/files/dashboards/vmstack-overview.json").read_text())
    assert [t["legendFormat"] for p in overview["panels"] for t in p.get("targets", [])] == [
        t["legendFormat"] for p in shipped["panels"] for t in p.get("targets", [])]
    assert "{{instance}}" in json.dumps(overview)


def test_grafana_com_dashboard_from_the_offline_directory(host):
    dashboard = json.loads(host.file(f"{DASHBOARDS}/grafana-com-1860-r37.json").content_string)
    assert dashboard["uid"] == "grafana-com-1860-r37"
    cpu, memory = dashboard["panels"]
    assert cpu["datasource"] == {"type": "prometheus", "uid": "vmstack-metrics"}
    assert cpu["targets"][0]["expr"] == 'instance:node_cpu_utilisation:rate5m{job="node_exporter", instance="$node"}'
    # The old by-name form becomes a reference by uid.
    assert memory["datasource"] == {"type": "prometheus", "uid": "vmstack-metrics"}


def test_stand_in_sees_the_dashboards(host):
    status, body = grafana_api(host, "/api/search", generated_password(host))
    assert status == 200
    assert sorted(item["uid"] for item in json.loads(body)) == [
        "grafana-com-1860-r37", "user-extra", "user-overview", "vmstack-overview"]


def test_datasource_url_of_a_cluster_is_vmselect(tmp_path):
    """With a vmselect group in the inventory the datasource reads the cluster (controller only)."""
    playbook = tmp_path / "url.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Render the default datasource URL", "hosts": "localhost", "gather_facts": False,
        "vars_files": [str(SCENARIO.parent.parent / "roles/grafana/defaults/main.yml")],
        "tasks": [{"name": "Show it", "ansible.builtin.debug": {"msg": "URL={{ grafana_datasource_url }}"}}],
    }]))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {"ansible_connection": "local"}}, "children": {
        "victoria_metrics": {"hosts": {"vm-1": {}}},
        "vmselect": {"hosts": {"select-1": {"vmstack_address": "10.0.0.5", "vmselect_port": 18481}, "select-2": {}}},
    }}}))
    completed = subprocess.run(["ansible-playbook", "-i", str(inventory), str(playbook), "-e", "grafana_cluster_tenant=7:3"],
                               capture_output=True, text=True, check=False, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "URL=http://10.0.0.5:18481/select/7:3/prometheus" in completed.stdout


# --- Check mode on a fresh host ---------------------------------------------


def test_check_mode_on_a_fresh_host_changes_nothing_there():
    fresh = container(FRESH)
    run = run_playbook(CONVERGE, [FRESH], options=["--check", "--diff"], groups={"converged": [FRESH], **GROUPS})
    assert run.returncode == 0, run.output
    assert run.changed(FRESH) > 0
    for path in ("/opt/grafana", "/etc/grafana", "/var/lib/grafana", "/etc/systemd/system/grafana.service"):
        assert not fresh.file(path).exists, path


# --- A second converge: upgrade, pruning, download, new password ---------------


@pytest.fixture(scope="module")
def second_run(host):
    fixture = SCENARIO / "files/grafana-com/1860-37.json"
    served = artifacts_dir() / "grafana.com-fixture/api/dashboards/1860/revisions/37/download"
    served.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fixture, served)
    shutil.rmtree(DASHBOARD_CACHE, ignore_errors=True)
    before = {"starts": start_count(host), "password": generated_password(host), "calls": len(cli_calls(host))}
    run = run_playbook(CONVERGE, [HOST], extra_vars=second_run_vars(), options=["-v", "--diff"],
                       groups={"converged": [HOST], **GROUPS})
    return run, before


def test_second_run_succeeds(second_run):
    run = second_run[0]
    assert run.returncode == 0, run.output


def test_upgrade_switches_the_tree_and_restarts_once(host, second_run):
    before = second_run[1]
    assert host.file("/opt/grafana/current").linked_to == f"/opt/grafana/grafana-v{NEW_VERSION}"
    assert json.loads(http_get(host, f"{BASE}/api/health"))["version"] == NEW_VERSION
    # The tree, grafana.ini and the datasources all changed: one restart for all.
    assert start_count(host) == before["starts"] + 1
    # The old tree stays (a rollback is a version change away).
    assert host.file(f"/opt/grafana/grafana-v{OLD_VERSION}/bin/grafana").exists


def test_removed_dashboard_is_pruned(host, second_run):
    assert sorted(host.file(DASHBOARDS).listdir()) == [
        "grafana-com-1860-r37.json", "user-overview.json", "vmstack-overview.json"]

    def search() -> list[str]:
        status, body = grafana_api(host, "/api/search", NEW_PASSWORD)
        assert status == 200
        return sorted(item["uid"] for item in json.loads(body))

    assert wait_for(lambda: search() == ["grafana-com-1860-r37", "user-overview", "vmstack-overview"], timeout=10)


def test_removed_datasource_is_deleted(host, second_run):
    document = yaml.safe_load(host.file(DATASOURCES).content_string)
    assert document["deleteDatasources"] == [{"name": "Scratch", "orgId": 1}]
    assert [ds["uid"] for ds in document["datasources"]] == ["vmstack-metrics"]


def test_grafana_com_dashboard_was_downloaded_once_into_the_cache(host, second_run):
    cached = DASHBOARD_CACHE / "1860-37.json"
    assert cached.read_bytes() == (SCENARIO / "files/grafana-com/1860-37.json").read_bytes()
    # Same revision, same bytes on the host as from the offline directory: the
    # dashboards task (its result shown by -v) writes the others, not this one.
    output = second_run[0].output
    task = output[output.index("Write the dashboards that are new or changed"):]
    task = task[:task.index("TASK [")]
    assert "written:" in task and "user-extra.json" in task, task
    assert "grafana-com-1860-r37.json" not in task, task


def test_password_change_is_applied_with_grafana_cli(host, second_run):
    before = second_run[1]
    calls = cli_calls(host)
    assert len(calls) == before["calls"] + 1
    assert calls[-1]["password_sha256"] == hashlib.sha256(NEW_PASSWORD.encode()).hexdigest()
    assert NEW_PASSWORD not in json.dumps(calls[-1]["argv"])
    assert grafana_api(host, "/api/user", NEW_PASSWORD)[0] == 200
    assert grafana_api(host, "/api/user", before["password"])[0] == 401
    assert ini_sections(host)["security"]["admin_password"] == NEW_PASSWORD
    # A password set in the variables leaves no generated copy behind.
    assert not host.file("/etc/grafana/admin-password").exists


def test_passwords_never_appear_in_the_output(second_run):
    run, before = second_run
    assert NEW_PASSWORD not in run.output
    assert before["password"] not in run.output


def test_check_mode_on_the_converged_host_reports_nothing(host, second_run):
    run = run_playbook(CONVERGE, [HOST], extra_vars=second_run_vars(), options=["--check", "--diff"],
                       groups={"converged": [HOST], **GROUPS})
    assert run.returncode == 0, run.output
    assert run.changed(HOST) == 0, run.output
    assert NEW_PASSWORD not in run.output
