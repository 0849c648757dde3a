# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The single-node stack end to end, with real binaries under systemd.

promoter and Grafana are the test bench's STAND-INS (tests/bench/*-stand-in),
as neither can be downloaded here: the promoter stand-in records what
Alertmanager posts to it instead of sending it to DingTalk or WeChat Work.

Tests run in file order; the later ones stop services or try bad configs and
restore what they change.
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

from stacktest import RELEASE_BINARIES, deliveries, http_get, query_vm, releases_not_default, run_playbook, wait_for

SCENARIO = Path(__file__).resolve().parent.parent
CONVERGE = SCENARIO / "converge.yml"
HOST = "vmstack-stack"
GROUPS = {name: [HOST] for name in ("node_exporter", "victoria_metrics", "vmagent", "vmalert", "alertmanager",
                                    "promoter", "grafana")}
UNITS = ("node_exporter", "victoria-metrics", "vmagent", "vmalert", "alertmanager", "promoter", "grafana")
VM = "http://127.0.0.1:8428"
VMALERT = "http://127.0.0.1:8880"
GRAFANA = "http://127.0.0.1:3000"
# The two alerts of vars/settings.yml, both firing while node_exporter is down.
TEST_ALERTS = ("NodeExporterDown", "NodeExporterScrapeFailing")


def value(host, expr: str, at: float | None = None) -> float:
    return float(query_vm(host, expr, at)[0]["value"][1])


def main_pid(host, unit: str) -> str:
    return host.check_output(f"systemctl show --property MainPID --value {unit}")


def pids(host) -> dict[str, str]:
    return {unit: main_pid(host, unit) for unit in UNITS}


def delivered(host, status: str) -> set[tuple[str, str]]:
    """(where, alertname) of the notifications with this status about the test's alerts."""
    return {(where, body["groupLabels"].get("alertname")) for where, body in deliveries(host)
            if body["status"] == status and body["groupLabels"].get("alertname") in TEST_ALERTS}


def converge(**kwargs):
    return run_playbook(CONVERGE, [HOST], groups=GROUPS, **kwargs)


def test_the_host_is_debian_13_running_the_default_releases(host):
    """This scenario proves the stack on Debian 13 (trixie); the others run on Debian 12."""
    assert (host.system_info.distribution, host.system_info.release.split(".")[0]) == ("debian", "13")
    assert releases_not_default(host, list(RELEASE_BINARIES)) == []


def test_every_service_runs(host):
    for unit in UNITS:
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
    assert wait_for(lambda: len(query_vm(host, "instance:node_cpu_utilisation:rate5m")) > 0, timeout=120)


def test_the_overview_dashboard_queries_answer(host):
    """Every query of the collection's own dashboard runs on this stack's
    VictoriaMetrics, and its component and host panels have data."""
    dashboard = json.loads((SCENARIO.parents[1] / "roles/grafana/files/dashboards/vmstack-overview.json").read_text())
    queries = [target["expr"].replace("$instance", ".+") for panel in dashboard["panels"]
               for target in panel.get("targets", [])]
    results = {expr: query_vm(host, expr) for expr in queries}
    jobs = {sample["metric"].get("job") for sample in results[queries[0]]}
    assert {"victoria_metrics", "vmagent", "vmalert", "alertmanager"} <= jobs, jobs
    for series in ("instance:node_cpu_utilisation:rate5m", "instance:node_memory_utilisation:ratio",
                   "instance:node_load1_per_cpu:ratio"):
        assert results[next(expr for expr in queries if expr.startswith(series))], series


def test_alerts_reach_promoter_by_severity_and_resolve(host):
    """The routes of the example inventory: critical to DingTalk with
    `continue` (so the catch-all recorder after it gets it too), warning to
    WeChat Work only."""
    expected = {("/dingtalk/send", "NodeExporterDown"), ("recorder", "NodeExporterDown"),
                ("/wechat/send", "NodeExporterScrapeFailing")}
    host.check_output("systemctl stop node_exporter")
    try:
        def alert_states() -> dict[str, str]:
            alerts = json.loads(http_get(host, f"{VMALERT}/api/v1/alerts"))["data"]["alerts"] or []
            return {name: next((alert["state"] for alert in alerts if alert["name"] == name), "inactive")
                    for name in TEST_ALERTS}

        assert wait_for(lambda: "pending" in alert_states().values(), timeout=60)
        assert wait_for(lambda: set(alert_states().values()) == {"firing"}, timeout=60), alert_states()
        assert wait_for(lambda: delivered(host, "firing") >= expected, timeout=60), deliveries(host)
        assert delivered(host, "firing") == expected
        receivers = {"/dingtalk/send": "oncall", "/wechat/send": "ops", "recorder": "recorder"}
        for where, body in deliveries(host):
            if body["groupLabels"].get("alertname") not in TEST_ALERTS:
                continue
            assert body["receiver"] == receivers[where]
            alert = body["alerts"][0]
            assert alert["labels"]["severity"] == ("warning" if where == "/wechat/send" else "critical")
            assert alert["labels"]["job"] == "node_exporter" and alert["annotations"]["summary"].startswith("node_exporter")
    finally:
        host.check_output("systemctl start node_exporter")

    assert wait_for(lambda: delivered(host, "resolved") == expected, timeout=120), deliveries(host)


def test_grafana_shows_the_stack(host):
    """Grafana (stand-in) runs with a generated admin password kept for root only,
    the datasource pointing at this host's VictoriaMetrics, and the collection's dashboard."""
    assert json.loads(http_get(host, f"{GRAFANA}/api/health"))["database"] == "ok"
    password_file = host.file("/etc/grafana/admin-password")
    assert (password_file.user, password_file.mode) == ("root", 0o600)
    credentials = base64.b64encode(f"admin:{password_file.content_string.strip()}".encode()).decode()
    search = host.check_output(f"curl -fsS --max-time 10 -H 'Authorization: Basic {credentials}' {GRAFANA}/api/search")
    assert "vmstack-overview" in search, search
    datasources = host.file("/etc/grafana/provisioning/datasources/vmstack.yml").content_string
    assert f"url: http://{HOST}:8428" in datasources, datasources


def test_check_mode_reports_nothing_to_change(host):
    run = converge(options=["--check", "--diff"])
    assert run.returncode == 0, run.output
    assert run.changed(HOST) == 0, run.output
    # The closing summary: where each component answers, and where Grafana's
    # password is kept, never the password itself.
    assert f"http://{HOST}:3000/" in run.output and f"http://{HOST}:8080/" in run.output
    assert f"the password is in /etc/grafana/admin-password on {HOST} (root only)" in " ".join(run.output.split())
    assert host.file("/etc/grafana/admin-password").content_string.strip() not in run.output


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
    # Grafana and promoter are skipped as well, only to save time.
    run = converge(options=["--skip-tags", "node_exporter,grafana,promoter"],
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
    # vmalert's own parser, run on the controller before the host is touched.
    assert_refused(host, {"vmalert_rule_groups": groups},
                   "run on the controller, refuses /etc/vmalert/rules/inline-groups.yml (from vmalert_rule_groups)",
                   "vmalert", "/etc/vmalert/rules/inline-groups.yml", "vmalert")


def test_invalid_scrape_config_is_refused(host):
    config = {"global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
              "scrape_configs": [{"job_name": "node_exporter", "static_configs": [{"targets": ["127.0.0.1:9100"]}]}]}
    assert_refused(host, {"vmagent_scrape_config": config}, "evaluation_interval", "vmagent", "/etc/vmagent/scrape.yml",
                   "vmagent")


def test_vmagent_queue_loses_nothing_while_victoria_metrics_is_down(host):
    host.check_output("systemctl stop victoria-metrics")
    stopped_at = time.time()
    try:
        # Long enough for several scrapes to wait in the queue.
        time.sleep(30)
    finally:
        host.check_output("systemctl start victoria-metrics")
    started_at = time.time()
    window = int(started_at - stopped_at) - 10
    # node_exporter is scraped every 5 s: the outage window must hold about window/5 samples.
    expected = window // 5 - 2

    def samples_in_outage() -> float:
        return value(host, f'count_over_time(up{{job="node_exporter"}}[{window}s])', at=stopped_at + window + 5)

    assert wait_for(lambda: samples_in_outage() >= expected, timeout=120), samples_in_outage()
