# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The single-node stack end to end, with real binaries under systemd.

Tests run in file order; the later ones stop services or try bad configs and
restore what they change.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import quote

from stacktest import http_get, run_playbook, wait_for

SCENARIO = Path(__file__).resolve().parent.parent
CONVERGE = SCENARIO / "converge.yml"
HOST = "vmstack-stack"
GROUPS = {name: [HOST] for name in ("node_exporter", "victoria_metrics", "vmagent", "vmalert", "alertmanager")}
VM = "http://127.0.0.1:8428"
VMALERT = "http://127.0.0.1:8880"
NOTIFICATIONS = "/var/lib/webhook-recorder/notifications.jsonl"


def query(host, expr: str, at: float | None = None) -> list:
    url = f"{VM}/api/v1/query?query={quote(expr)}" + (f"&time={at}" if at else "")
    return json.loads(http_get(host, url))["data"]["result"]


def value(host, expr: str, at: float | None = None) -> float:
    return float(query(host, expr, at)[0]["value"][1])


def main_pid(host, unit: str) -> str:
    return host.check_output(f"systemctl show --property MainPID --value {unit}")


def pids(host) -> dict[str, str]:
    return {unit: main_pid(host, unit) for unit in ("node_exporter", "victoria-metrics", "vmagent", "vmalert", "alertmanager")}


def notifications(host) -> list[dict]:
    text = host.check_output(f"cat {NOTIFICATIONS} 2>/dev/null || true")
    return [json.loads(line)["body"] for line in text.splitlines() if line.strip()]


def converge(**kwargs):
    return run_playbook(CONVERGE, [HOST], groups=GROUPS, **kwargs)


def test_every_service_runs(host):
    for unit in ("node_exporter", "victoria-metrics", "vmagent", "vmalert", "alertmanager"):
        assert host.service(unit).is_running, unit
        assert host.service(unit).is_enabled, unit


def test_node_exporter_is_scraped_through_vmagent(host):
    assert wait_for(lambda: value(host, 'up{job="node_exporter"}') == 1, timeout=90)
    assert wait_for(lambda: value(host, 'node_load1{job="node_exporter"}') >= 0, timeout=30)


def test_only_metrics_ports_are_scraped(host):
    targets = json.loads(http_get(host, "http://127.0.0.1:8429/api/v1/targets"))["data"]["activeTargets"]
    addresses = sorted(target["labels"]["instance"] for target in targets)
    assert len(addresses) == len(set(addresses)), addresses
    assert not [address for address in addresses if address.endswith(":9094")], addresses


def test_vmalert_notifies_alertmanager_on_its_real_port(host):
    unit = host.check_output("systemctl cat vmalert")
    assert '"-notifier.url=http://' in unit and ':9093"' in unit


def test_a_recorded_series_from_the_library_appears(host):
    assert wait_for(lambda: len(query(host, "instance:node_cpu_utilisation:rate5m")) > 0, timeout=120)


def test_alert_fires_reaches_the_webhook_and_resolves(host):
    host.check_output("systemctl stop node_exporter")
    try:
        def alert_state() -> str:
            alerts = json.loads(http_get(host, f"{VMALERT}/api/v1/alerts"))["data"]["alerts"] or []
            return next((alert["state"] for alert in alerts if alert["name"] == "NodeExporterDown"), "inactive")

        assert wait_for(lambda: alert_state() == "pending", timeout=60)
        assert wait_for(lambda: alert_state() == "firing", timeout=60)

        def firing() -> list[dict]:
            return [n for n in notifications(host) if n["status"] == "firing" and n["groupLabels"].get("alertname") == "NodeExporterDown"]

        assert wait_for(lambda: len(firing()) > 0, timeout=60)
        notification = firing()[0]
        assert notification["receiver"] == "recorder"
        assert notification["groupLabels"] == {"alertname": "NodeExporterDown", "severity": "critical"}
        alert = notification["alerts"][0]
        assert alert["labels"]["severity"] == "critical" and alert["labels"]["job"] == "node_exporter"
        assert "is down" in alert["annotations"]["summary"]
    finally:
        host.check_output("systemctl start node_exporter")

    def resolved() -> list[dict]:
        return [n for n in notifications(host) if n["status"] == "resolved" and n["groupLabels"].get("alertname") == "NodeExporterDown"]

    assert wait_for(lambda: len(resolved()) > 0, timeout=120)


def test_check_mode_reports_nothing_to_change(host):
    run = converge(options=["--check", "--diff"])
    assert run.returncode == 0, run.output
    assert run.changed(HOST) == 0, run.output


def test_tag_vm_changes_only_victoria_metrics(host):
    before = pids(host)
    run = converge(options=["--tags", "vm"], extra_vars={"victoria_metrics_retention_period": "3"})
    assert run.returncode == 0, run.output
    after = pids(host)
    assert after["victoria-metrics"] != before["victoria-metrics"]
    assert {unit: pid for unit, pid in after.items() if unit != "victoria-metrics"} == \
        {unit: pid for unit, pid in before.items() if unit != "victoria-metrics"}
    # Ansible always validates each role's arguments; nothing else of node_exporter may run.
    node_exporter_play = run.output.partition("PLAY [Deploy node_exporter]")[2].split("PLAY [")[0]
    assert all("Validating arguments" in task for task in re.findall(r"TASK \[(.+?)\] \*", node_exporter_play))
    assert '"-retentionPeriod=3"' in host.file("/etc/systemd/system/victoria-metrics.service").content_string


def test_skip_tags_leaves_node_exporter_untouched(host):
    unit_before = host.file("/etc/systemd/system/node_exporter.service").content_string
    before = pids(host)
    run = converge(options=["--skip-tags", "node_exporter"],
                   extra_vars={"node_exporter_disabled_collectors": ["wifi"]})
    assert run.returncode == 0, run.output
    assert host.file("/etc/systemd/system/node_exporter.service").content_string == unit_before
    assert main_pid(host, "node_exporter") == before["node_exporter"]
    # The previous test changed the retention on the command line only: this
    # run puts it back, which is the one change it makes.
    assert '"-retentionPeriod=1"' in host.file("/etc/systemd/system/victoria-metrics.service").content_string


def assert_refused(host, extra_vars: dict, expected: str, unit: str, live_file: str, tag: str) -> None:
    """Converge only the component concerned (to save time) with a bad setting."""
    pid = main_pid(host, unit)
    content = host.file(live_file).content_string
    run = converge(extra_vars=extra_vars, options=["--tags", tag])
    assert run.returncode != 0
    assert expected in run.output, run.output
    assert host.file(live_file).content_string == content
    assert main_pid(host, unit) == pid


def test_invalid_alertmanager_route_is_refused(host):
    route = {"receiver": "recorder", "routes": [{"receiver": "nobody", "matchers": ['severity="info"']}]}
    assert_refused(host, {"alertmanager_route": route}, "nobody", "alertmanager", "/etc/alertmanager/alertmanager.yml",
                   "alertmanager")


def test_invalid_rule_file_is_refused(host):
    groups = [{"name": "bad", "rules": [{"alert": "Broken", "expr": "up ==", "labels": {"severity": "warning"}}]}]
    assert_refused(host, {"vmalert_rule_groups": groups}, "refuses inline-groups.yml", "vmalert",
                   "/etc/vmalert/rules/inline-groups.yml", "vmalert")


def test_invalid_scrape_config_is_refused(host):
    config = {"global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
              "scrape_configs": [{"job_name": "node_exporter", "static_configs": [{"targets": ["127.0.0.1:9100"]}]}]}
    assert_refused(host, {"vmagent_scrape_config": config}, "evaluation_interval", "vmagent", "/etc/vmagent/scrape.yml",
                   "vmagent")


def test_vmagent_queue_loses_nothing_while_victoria_metrics_is_down(host):
    host.check_output("systemctl stop victoria-metrics")
    stopped_at = time.time()
    try:
        time.sleep(60)
    finally:
        host.check_output("systemctl start victoria-metrics")
    started_at = time.time()
    window = int(started_at - stopped_at) - 10
    # node_exporter is scraped every 5 s: the outage window must hold about window/5 samples.
    expected = window // 5 - 2

    def samples_in_outage() -> float:
        return value(host, f'count_over_time(up{{job="node_exporter"}}[{window}s])', at=stopped_at + window + 5)

    assert wait_for(lambda: samples_in_outage() >= expected, timeout=120), samples_in_outage()
