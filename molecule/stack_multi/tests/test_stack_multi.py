# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The stack over three hosts: URLs between hosts come from the inventory."""

from __future__ import annotations

from pathlib import Path

from stacktest import container, deliveries, query_vm, releases_not_default, run_playbook, wait_for

CONVERGE = Path(__file__).resolve().parent.parent / "converge.yml"
TSDB, AGENT, AM = "vmstack-tsdb", "vmstack-agent", "vmstack-am"
GROUPS = {
    "node_exporter": [TSDB, AGENT, AM],
    "victoria_metrics": [TSDB],
    "vmalert": [TSDB],
    "vmagent": [AGENT],
    "alertmanager": [AM],
    "promoter": [AM],
}


def test_each_host_runs_its_components():
    for name, units in ((TSDB, ["victoria-metrics", "vmalert", "node_exporter"]),
                        (AGENT, ["vmagent", "node_exporter"]), (AM, ["alertmanager", "promoter", "node_exporter"])):
        for unit in units:
            assert container(name).service(unit).is_running, f"{unit} on {name}"
    assert not container(AGENT).service("victoria-metrics").is_running


def test_each_host_runs_the_default_releases():
    for name, binaries in ((TSDB, ["victoria-metrics-prod", "vmalert-prod", "node_exporter"]),
                           (AGENT, ["vmagent-prod", "node_exporter"]), (AM, ["alertmanager", "node_exporter"])):
        assert releases_not_default(container(name), binaries) == [], name


def test_vmagent_scrapes_every_node_into_the_remote_storage(host):
    def instances() -> set[str]:
        return {sample["metric"]["instance"] for sample in query_vm(host, 'up{job="node_exporter"} == 1')}

    assert wait_for(lambda: instances() == {f"{name}:9100" for name in (TSDB, AGENT, AM)}, timeout=120)


def test_vmalert_points_at_the_alertmanager_host(host):
    assert f'"-notifier.url=http://{AM}:9093"' in host.check_output("systemctl cat vmalert")


def test_alert_from_one_host_arrives_through_another():
    """node_exporter stopped on the vmagent host: vmalert on the storage host
    fires, Alertmanager on a third host sends the critical alert to the promoter
    relay beside it (DingTalk) and, by `continue`, to the webhook recorder."""
    agent, am = container(AGENT), container(AM)

    def notifications(status: str) -> dict[str, list]:
        sent = {"recorder": [], "/dingtalk/send": []}
        for where, body in deliveries(am):
            if where in sent and body["status"] == status and any(
                    alert["labels"].get("instance") == f"{AGENT}:9100" for alert in body["alerts"]):
                sent[where].append(body)
        return sent

    agent.check_output("systemctl stop node_exporter")
    try:
        assert wait_for(lambda: all(notifications("firing").values()), timeout=150), notifications("firing")
    finally:
        agent.check_output("systemctl start node_exporter")
    assert wait_for(lambda: all(notifications("resolved").values()), timeout=150), notifications("resolved")


def test_check_mode_reports_nothing_to_change():
    run = run_playbook(CONVERGE, [TSDB, AGENT, AM], groups=GROUPS, options=["--check", "--diff"])
    assert run.returncode == 0, run.output
    assert all(counters["changed"] == 0 for counters in run.recap.values()), run.output
