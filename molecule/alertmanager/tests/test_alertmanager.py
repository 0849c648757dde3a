# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Verify the alertmanager role on two converged hosts (an HA pair).

The tests run in file order: the read-only checks and the notification
first, then the runs that must fail and leave the hosts alone, then a
converge with rotated secrets, and last a check-mode run against the result.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import uuid
from pathlib import Path

import pytest
from stacktest import PlaybookRun, container, http_get, run_playbook, wait_for

SCENARIO = Path(__file__).resolve().parent.parent
CONVERGE = SCENARIO / "converge.yml"
HOSTS = ["vmstack-am1", "vmstack-am2"]
CONFIG = "/etc/alertmanager/alertmanager.yml"
API = "http://127.0.0.1:9093"

# The secrets converge.yml sets, and the ones a converge from the tests rotates
# them to (new ones each run, so that the config really changes every time).
SECRETS = ["smtp-secret-3f9c2e71", "hook-token-8d41b6a0", "bearer-secret-c07e55d2"]
_RUN = uuid.uuid4().hex[:8]
ROTATED = {
    "test_smtp_password": f"smtp-rotated-{_RUN}",
    "test_webhook_token": f"hook-rotated-{_RUN}",
    "test_bearer_token": f"bearer-rotated-{_RUN}",
}
ALL_SECRETS = SECRETS + list(ROTATED.values())

RECORDER_PORT = 5001
RECORDED = "/var/tmp/webhook.jsonl"


def flat(text: str) -> str:
    """The text with all white space runs as one space (Ansible wraps long messages)."""
    return " ".join(text.split())


def changed(run: PlaybookRun) -> dict[str, int]:
    """The changed counter of each host in the PLAY RECAP (also of a failed run)."""
    return {host: int(count) for host, count in re.findall(r"^(\S+)\s*: ok=\d+\s+changed=(\d+)", run.output, re.M)}


def main_pid(name: str) -> str:
    return container(name).check_output("systemctl show --property MainPID --value alertmanager")


def assert_no_secret(text: str, where: str) -> None:
    leaked = [secret for secret in ALL_SECRETS if secret in text]
    assert not leaked, f"{where} shows the secrets {leaked}"


def test_service_is_active_and_enabled(host):
    service = host.service("alertmanager")
    assert service.is_running
    assert service.is_enabled


def test_health_endpoint_answers(host):
    assert http_get(host, f"{API}/-/healthy").strip() == "OK"


def test_amtool_accepts_the_live_config(host):
    result = host.run(f"amtool check-config {CONFIG}")
    assert result.rc == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert "1 templates" in result.stdout


def test_config_and_data_are_private(host):
    config = host.file(CONFIG)
    assert (config.user, config.group, config.mode) == ("root", "alertmanager", 0o640)
    template = host.file("/etc/alertmanager/templates/vmstack.tmpl")
    assert (template.user, template.group, template.mode) == ("root", "alertmanager", 0o640)
    data = host.file("/var/lib/alertmanager")
    assert (data.user, data.mode) == ("alertmanager", 0o700)


def test_the_peers_see_each_other(host):
    def cluster_ready() -> bool:
        cluster = json.loads(http_get(host, f"{API}/api/v2/status"))["cluster"]
        return cluster["status"] == "ready" and len(cluster["peers"]) == 2

    assert wait_for(cluster_ready, timeout=60), http_get(host, f"{API}/api/v2/status")
    # Each host names the other one (never itself) as its peer.
    this = host.check_output("hostname")
    peers = [line.strip(' "\\') for line in host.check_output("systemctl cat alertmanager").splitlines()
             if "--cluster.peer=" in line]
    assert peers == [f"--cluster.peer={name}:9094" for name in HOSTS if name != this]


def test_an_alert_reaches_the_webhook_grouped_by_its_route():
    am1 = container("vmstack-am1")
    subprocess.run(
        ["podman", "cp", str(SCENARIO.parent / "webhook_recorder.py"), "vmstack-am1:/usr/local/lib/webhook_recorder.py"],
        check=True,
    )
    am1.run(f"systemctl stop webhook-recorder; rm -f {RECORDED}")
    am1.check_output(
        f"systemd-run --unit webhook-recorder python3 /usr/local/lib/webhook_recorder.py 127.0.0.1 {RECORDER_PORT} {RECORDED}"
    )
    assert wait_for(lambda: am1.socket(f"tcp://127.0.0.1:{RECORDER_PORT}").is_listening, timeout=20)

    # A new alert name each time, so that a second verify run is not deduplicated.
    alertname = f"VmstackTest{uuid.uuid4().hex[:8]}"
    alerts = [
        {"labels": {"alertname": alertname, "team": "ops", "severity": "warning", "instance": f"node-{n}"},
         "annotations": {"summary": f"test alert {n}"}}
        for n in (1, 2)
    ]
    am1.check_output(
        f"curl -fsS --max-time 10 -X POST -H 'Content-Type: application/json' "
        f"--data {shlex.quote(json.dumps(alerts))} {API}/api/v2/alerts"
    )
    assert wait_for(lambda: am1.file(RECORDED).exists and am1.file(RECORDED).size > 0, timeout=45), (
        am1.check_output("journalctl -u alertmanager --no-pager -n 30")
    )

    record = json.loads(am1.file(RECORDED).content_string.splitlines()[0])
    body = record["body"]
    assert body["receiver"] == "ops-webhook"
    assert body["status"] == "firing"
    # The child route groups by alertname and team, so both alerts come in one notification.
    assert body["groupLabels"] == {"alertname": alertname, "team": "ops"}
    assert sorted(alert["labels"]["instance"] for alert in body["alerts"]) == ["node-1", "node-2"]
    for alert in body["alerts"]:
        assert {key: alert["labels"][key] for key in ("alertname", "team", "severity")} == {
            "alertname": alertname, "team": "ops", "severity": "warning"}
    # The secrets of the receiver reached Alertmanager (those of converge.yml,
    # or the rotated ones when verify runs a second time).
    config = am1.file(CONFIG).content_string
    token = record["path"].removeprefix("/hook?token=")
    assert token != record["path"] and f"url: http://127.0.0.1:{RECORDER_PORT}/hook?token={token}\n" in config
    assert record["authorization"].startswith("Bearer ")
    assert f"credentials: {record['authorization'].removeprefix('Bearer ')}\n" in config


def test_an_unknown_receiver_fails_on_the_controller():
    am1 = container("vmstack-am1")
    before = am1.check_output(f"sha256sum {CONFIG}")
    run = run_playbook(CONVERGE, ["vmstack-am1"], {"alertmanager_route": {
        "receiver": "default",
        "routes": [{"matchers": ['team="db"'], "receiver": "dba-pager"}],
    }})
    assert run.returncode != 0
    output = flat(run.output)
    assert "Check that the routes send to receivers that exist" in output
    assert "the route alertmanager_route.routes[0] sends to the receiver 'dba-pager'" in output
    assert "Known receivers: default, ops-webhook, oncall-email" in output
    assert changed(run) == {"vmstack-am1": 0}
    assert am1.check_output(f"sha256sum {CONFIG}") == before


def test_a_config_amtool_refuses_fails_and_keeps_the_running_service():
    am1 = container("vmstack-am1")
    pid = main_pid("vmstack-am1")
    before = am1.check_output(f"sha256sum {CONFIG}")
    # The host's own check, as for a controller that cannot run the release.
    run = run_playbook(CONVERGE, ["vmstack-am1"], {"alertmanager_route": {"receiver": "default", "group_wait": "5x"},
                                                   "vmstack_release_checks": False})
    assert run.returncode != 0
    output = flat(run.output)
    # amtool 0.33.1's wording (0.25.0 said: not a valid duration string: "5x").
    assert 'amtool check-config FAILED: unknown unit "x" in duration "5x"' in output
    assert f"{CONFIG} was not changed" in output
    assert_no_secret(run.output, "the output of the refused converge")
    assert main_pid("vmstack-am1") == pid
    assert am1.check_output(f"sha256sum {CONFIG}") == before
    assert am1.service("alertmanager").is_running


def test_a_template_amtool_refuses_is_put_back(tmp_path):
    """The live config is checked with the new templates in place; refused, the directory is as it was."""
    am1 = container("vmstack-am1")
    pid = main_pid("vmstack-am1")
    template = "/etc/alertmanager/templates/vmstack.tmpl"
    before = am1.check_output(f"sha256sum {CONFIG} {template}")
    broken = tmp_path / "vmstack.tmpl"
    broken.write_text('{{ define "vmstack.title" }}{{ .Status \n')
    run = run_playbook(CONVERGE, ["vmstack-am1"], {"alertmanager_templates": [str(broken)],
                                                   "vmstack_release_checks": False})
    assert run.returncode != 0
    output = flat(run.output)
    assert ("refuses the new files of /etc/alertmanager/templates together, so they were put back as they were"
            in output), output
    assert "FAILED" in output
    assert am1.check_output(f"sha256sum {CONFIG} {template}") == before
    assert am1.check_output("ls -A /etc/alertmanager/templates").split() == ["vmstack.tmpl"]
    assert not am1.file("/var/lib/vmstack/pending/alertmanager").exists
    assert main_pid("vmstack-am1") == pid


@pytest.fixture(scope="module")
def rotated() -> tuple[PlaybookRun, dict[str, str]]:
    """Converge both hosts with new secrets, showing diffs and verbose results; also the PIDs before."""
    pids = {name: main_pid(name) for name in HOSTS}
    return run_playbook(CONVERGE, HOSTS, ROTATED, ["--diff", "-v"]), pids


def test_secrets_stay_out_of_the_output_the_unit_and_the_process_list(rotated):
    run, pids = rotated
    assert run.returncode == 0, run.output
    assert_no_secret(run.output, "the converge output")
    for name in HOSTS:
        assert changed(run)[name] > 0
        # A new config is reloaded, not restarted.
        assert main_pid(name) == pids[name]
        host = container(name)
        # The new secrets are in the config file, and only there.
        config = host.file(CONFIG).content_string
        assert all(secret in config for secret in ROTATED.values())
        assert_no_secret(host.check_output("systemctl cat alertmanager"), f"systemctl cat on {name}")
        assert_no_secret(host.check_output("systemctl show alertmanager"), f"systemctl show on {name}")
        assert_no_secret(host.check_output("ps -eo args"), f"ps on {name}")
        assert_no_secret(host.check_output("journalctl -u alertmanager --no-pager"), f"the journal on {name}")
        # Alertmanager itself masks these two in its API (it shows webhook URLs as they are).
        status = http_get(host, f"{API}/api/v2/status")
        assert ROTATED["test_smtp_password"] not in status and ROTATED["test_bearer_token"] not in status


def test_check_diff_on_the_converged_hosts_changes_nothing(rotated):
    run = run_playbook(CONVERGE, HOSTS, ROTATED, ["--check", "--diff"])
    assert run.returncode == 0, run.output
    assert changed(run) == {name: 0 for name in HOSTS}
    assert_no_secret(run.output, "the check-mode output")
