# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Verify the promoter role, and Alertmanager's webhooks to it, on one host.

promoter here is the test bench's STAND-IN (tests/bench/promoter-stand-in/):
it loads the config the role writes, answers promoter's API and webhook
paths, and records every POST instead of sending it to DingTalk or WeChat.

The tests run in file order: the read-only checks and the notifications
first, then the runs that must fail on the controller, then a converge that
moves promoter to another port (with rotated secrets, the archive from a URL,
--diff and -v), and last a check-mode run against the result.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import uuid
from pathlib import Path

import pytest
import yaml
from stacktest import PlaybookRun, container, http_get, run_playbook, wait_for

SCENARIO = Path(__file__).resolve().parent.parent
CONVERGE = SCENARIO / "converge.yml"
HOST = "vmstack-promoter"
GROUPS = {"promoter": [HOST], "alertmanager": [HOST], "victoria_metrics": [HOST]}
CONFIG = "/etc/promoter/config.yml"
AM_API = "http://127.0.0.1:9093"
VERSION = "0.2.3"
ARCHIVE = f"promoter-stand-in-{VERSION}.linux-amd64.tar.gz"

SECRETS = ["dt-token-5e0c1a9b", "dt-secret-77b2d4e1", "wx-secret-a1f09c3d", "s3-secret-4c8e2b70"]
_RUN = uuid.uuid4().hex[:8]
ROTATED = {
    "test_dingtalk_token": f"dt-token-rotated-{_RUN}",
    "test_dingtalk_secret": f"dt-secret-rotated-{_RUN}",
    "test_wechat_secret": f"wx-secret-rotated-{_RUN}",
    "test_s3_secret_key": f"s3-secret-rotated-{_RUN}",
}
ALL_SECRETS = SECRETS + list(ROTATED.values())
MOVED_PORT = 8091


def flat(text: str) -> str:
    """The text with all white space runs as one space (Ansible wraps long messages)."""
    return " ".join(text.split())


def changed(run: PlaybookRun) -> dict[str, int]:
    """The changed counter of each host in the PLAY RECAP (also of a failed run)."""
    return {name: int(count) for name, count in re.findall(r"^(\S+)\s*: ok=\d+\s+changed=(\d+)", run.output, re.M)}


def assert_no_secret(text: str, where: str) -> None:
    leaked = [secret for secret in ALL_SECRETS if secret in text]
    assert not leaked, f"{where} shows the secrets {leaked}"


def main_pid() -> str:
    return container(HOST).check_output("systemctl show --property MainPID --value promoter")


def recorded(port: int) -> list[dict]:
    """The POSTs the stand-in has received since it started."""
    text = http_get(container(HOST), f"http://127.0.0.1:{port}/-/stand-in/requests")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def post_alerts(alerts: list[dict]) -> None:
    container(HOST).check_output(
        f"curl -fsS --max-time 10 -X POST -H 'Content-Type: application/json' "
        f"--data {shlex.quote(json.dumps(alerts))} {AM_API}/api/v2/alerts"
    )


def notifications(port: int, alertname: str) -> list[dict]:
    """Recorded POSTs whose alerts carry this alertname."""
    return [record for record in recorded(port)
            if any(alert["labels"].get("alertname") == alertname for alert in (record["body"] or {}).get("alerts", []))]


def alertmanager_config(node) -> str:
    """Alertmanager's config file. Its API (/api/v2/status) is no use here:
    0.33.1 masks webhook URLs there as <secret> (0.25.0 showed them)."""
    return node.file("/etc/alertmanager/alertmanager.yml").content_string


@pytest.fixture(scope="module")
def node():
    """The converged container (not testinfra's parametrized `host`, which would reorder the tests)."""
    return container(HOST)


def test_services_are_active_and_enabled(node):
    for name in ("promoter", "alertmanager"):
        service = node.service(name)
        assert service.is_running, name
        assert service.is_enabled, name


def test_the_config_is_private_and_derived_from_the_inventory(node):
    config_file = node.file(CONFIG)
    assert (config_file.user, config_file.group, config_file.mode) == ("root", "promoter", 0o640)
    config = yaml.safe_load(config_file.content_string)
    # The query URL is the inventory's VictoriaMetrics on its registry port.
    assert config["global"]["prometheus_url"] == f"http://{HOST}:8428"
    assert config["global"]["wechat_api_corp_id"] == "ww0123456789abcdef"
    assert set(config["global"]) == {"prometheus_url", "dingtalk_api_token", "dingtalk_api_secret",
                                     "wechat_api_corp_id", "wechat_api_secret"}
    assert config["s3"]["bucket"] == "alert-graphs" and config["s3"]["endpoint"] == "minio.example.com:9000"
    assert config["receivers"] == [
        {"name": "dingtalk", "dingtalk_configs": [{
            "message_type": "markdown",
            "markdown": {"title": '{{ template "dingtalk.default.title" . }}',
                         "text": '{{ template "dingtalk.default.content" . }}'},
            "at": {"atMobiles": ["13800000000"], "isAtAll": False},
        }]},
        {"name": "wechat", "wechat_configs": [{"agent_id": "1000002", "to_user": "@all", "message_type": "text"}]},
    ]
    assert config["templates"] == []


def test_the_unit_runs_promoter_with_its_flags_and_no_secret(node):
    unit = node.check_output("systemctl cat promoter")
    assert '"--config.file=/etc/promoter/config.yml"' in unit
    assert '"--web.listen-address=:8080"' in unit
    assert "User=promoter" in unit and "ProtectSystem=strict" in unit
    assert_no_secret(unit, "systemctl cat promoter")
    assert_no_secret(node.check_output("ps -eo args"), "ps")
    assert node.check_output("ps -o user= -C promoter").split() == ["promoter"]


def test_the_api_lists_the_receivers(node):
    assert json.loads(http_get(node, "http://127.0.0.1:8080/api/v1/receivers"))["data"] == ["dingtalk", "wechat"]


def test_alertmanager_posts_to_the_port_promoter_listens_on(node):
    config = alertmanager_config(node)
    assert f"url: http://{HOST}:8080/dingtalk/send" in config
    assert f"url: http://{HOST}:8080/wechat/send" in config


def test_critical_alerts_reach_dingtalk_and_warnings_wechat():
    # New alert names each time, so that a second verify run is not deduplicated.
    critical, warning = (f"VmstackPromoter{kind}{uuid.uuid4().hex[:8]}" for kind in ("Critical", "Warning"))
    post_alerts([
        {"labels": {"alertname": critical, "severity": "critical", "instance": "node-1"},
         "annotations": {"summary": "critical test alert"}},
        {"labels": {"alertname": warning, "severity": "warning", "instance": "node-1"},
         "annotations": {"summary": "warning test alert"}},
    ])
    assert wait_for(lambda: notifications(8080, critical) and notifications(8080, warning), timeout=45), (
        container(HOST).check_output("journalctl -u alertmanager -u promoter --no-pager -n 30"))

    for alertname, path, receiver, severity in ((critical, "/dingtalk/send", "oncall", "critical"),
                                                (warning, "/wechat/send", "ops", "warning")):
        records = notifications(8080, alertname)
        assert {record["path"] for record in records} == {path}, records
        for record in records:
            assert record["known"], "the stand-in's config has no receiver for " + path
            assert record["body"]["receiver"] == receiver
            assert record["body"]["status"] == "firing"
            assert [alert["labels"]["severity"] for alert in record["body"]["alerts"]] == [severity]


def test_an_upstream_install_without_url_fails_before_any_change():
    run = run_playbook(CONVERGE, [HOST], {"promoter_archive_source": "upstream"}, groups=GROUPS)
    assert run.returncode != 0
    output = flat(run.output)
    assert "Check where the promoter archive comes from" in output
    assert "promoter has no default download and nothing unverified is installed" in output
    assert "promoter_archive_url (the archive's http(s) URL, for the source 'upstream'; not set)" in output
    assert changed(run) == {HOST: 0}


def test_a_promoter_receiver_without_promoter_hosts_fails_before_any_change():
    before = container(HOST).check_output("sha256sum /etc/alertmanager/alertmanager.yml")
    run = run_playbook(CONVERGE, [HOST], groups={"alertmanager": [HOST], "victoria_metrics": [HOST]})
    assert run.returncode != 0
    output = flat(run.output)
    assert "Check that the receivers sending to promoter find it in the inventory" in output
    assert ("alertmanager_receivers[1] (oncall) sends to promoter, but the inventory group 'promoter' has no host"
            in output)
    assert changed(run) == {HOST: 0}
    assert container(HOST).check_output("sha256sum /etc/alertmanager/alertmanager.yml") == before


def test_a_port_alertmanager_cannot_see_is_refused():
    run = run_playbook(SCENARIO / "tests" / "port_in_play.yml", [HOST], groups=GROUPS)
    assert run.returncode != 0
    output = flat(run.output)
    assert "the inventory gives this host 8080, this play 8099" in output
    assert changed(run) == {HOST: 0}


def moved_vars() -> dict:
    """promoter on another port, rotated secrets, and the archive from its URL (the bench's mirror)."""
    url = f"{os.environ['VMSTACK_MIRROR_URL']}/promoter/v{VERSION}/{ARCHIVE}"
    return dict(ROTATED, promoter_port=MOVED_PORT, promoter_archive_source="upstream", promoter_archive_url=url)


@pytest.fixture(scope="module")
def moved() -> tuple[PlaybookRun, str]:
    """Converge with moved_vars(), showing diffs and verbose results; also the PID before."""
    pid = main_pid()
    return run_playbook(CONVERGE, [HOST], moved_vars(), ["--diff", "-v"], groups=GROUPS), pid


def test_a_new_port_moves_the_relay_and_alertmanagers_webhooks(moved, node):
    run, pid = moved
    assert run.returncode == 0, run.output
    assert changed(run)[HOST] > 0
    # The archive came from the URL and passed its sha256.
    assert re.search(r"TASK \[vmstack\.monitoring\.common : Get the release archive ready on the controller - promoter\]"
                     r"[^\n]*\n+ok:", run.output), run.output
    # promoter has no reload: the new config and flag restarted it.
    assert main_pid() != pid
    unit = node.check_output("systemctl cat promoter")
    assert f'"--web.listen-address=:{MOVED_PORT}"' in unit
    assert json.loads(http_get(node, f"http://127.0.0.1:{MOVED_PORT}/api/v1/receivers"))["data"] == ["dingtalk", "wechat"]
    assert node.run("curl -fsS --max-time 5 http://127.0.0.1:8080/api/v1/receivers").rc != 0
    config = alertmanager_config(node)
    assert f"url: http://{HOST}:{MOVED_PORT}/dingtalk/send" in config
    assert f"url: http://{HOST}:{MOVED_PORT}/wechat/send" in config
    assert ":8080/" not in config

    alertname = f"VmstackPromoterMoved{uuid.uuid4().hex[:8]}"
    post_alerts([{"labels": {"alertname": alertname, "severity": "critical", "instance": "node-2"}}])
    assert wait_for(lambda: notifications(MOVED_PORT, alertname), timeout=45), (
        node.check_output("journalctl -u alertmanager --no-pager -n 30"))
    assert [record["path"] for record in notifications(MOVED_PORT, alertname)] == ["/dingtalk/send"]


def test_secrets_stay_in_the_config_file(moved, node):
    run = moved[0]
    assert_no_secret(run.output, "the converge output (--diff -v)")
    config = node.file(CONFIG).content_string
    assert all(secret in config for secret in ROTATED.values())
    assert not [secret for secret in SECRETS if secret in config]
    assert_no_secret(node.check_output("systemctl cat promoter"), "systemctl cat promoter")
    assert_no_secret(node.check_output("systemctl show promoter"), "systemctl show promoter")
    assert_no_secret(node.check_output("ps -eo args"), "ps")
    assert_no_secret(node.check_output("journalctl -u promoter --no-pager"), "the journal")


def test_check_diff_on_the_converged_host_changes_nothing(moved):
    run = run_playbook(CONVERGE, [HOST], moved_vars(), ["--check", "--diff"], groups=GROUPS)
    assert run.returncode == 0, run.output
    assert changed(run) == {HOST: 0}
    assert_no_secret(run.output, "the check-mode output")
