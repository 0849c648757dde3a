# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""A VictoriaMetrics cluster on real systemd hosts with real cluster binaries.

Tests run in file order: the last one upgrades the whole cluster.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from stacktest import container, http_get, run_playbook, wait_for

SCENARIO = Path(__file__).resolve().parent.parent
CONVERGE = SCENARIO / "converge.yml"
WRITER = Path(__file__).resolve().parent / "cluster_writer.py"
# Each host runs vmstorage, vminsert and vmselect; a and b a vmagent shard each, c vmalert and Alertmanager.
FRONT = "vmstack-cluster-a"
SECOND = "vmstack-cluster-b"
THIRD = "vmstack-cluster-c"
OLDEST = "vmstack-cluster-oldest"  # in no group of the cluster: a one-node cluster of the oldest release
NODES = [FRONT, SECOND, THIRD]
AGENTS = [FRONT, SECOND]
GROUPS = {"vmstorage": NODES, "vminsert": NODES, "vmselect": NODES, "vmagent": AGENTS,
          "vmalert": [THIRD], "alertmanager": [THIRD]}
INSERT = "http://127.0.0.1:8480/insert"
SELECT = "http://127.0.0.1:8481/select"
OLDEST_VERSION = "1.79.5"
OLD_VERSION = "1.112.0"
NEW_VERSION = "1.150.0"
SERVICES = {name: ["vmstorage", "vminsert", "vmselect"] for name in NODES}
# The default scrape config: each component on its HTTP port.
TARGETS = {("vmstorage", f"{name}:8482") for name in NODES} | {("vminsert", f"{name}:8480") for name in NODES} \
    | {("vmselect", f"{name}:8481") for name in NODES} | {("vmagent", f"{name}:8429") for name in AGENTS} \
    | {("vmalert", f"{THIRD}:8880"), ("alertmanager", f"{THIRD}:9093")}
# The bench shares two cores with other runs: give slow connections time.
os.environ.setdefault("ANSIBLE_TIMEOUT", "60")


def write(host, tenant: str, text: str) -> None:
    host.check_output(f"curl -fsS --data-binary {shlex.quote(text)} {INSERT}/{tenant}/prometheus/api/v1/import/prometheus")


def query(host, tenant: str, expr: str) -> dict:
    """The whole answer of an instant query through vmselect (data and isPartial)."""
    return json.loads(http_get(host, f"{SELECT}/{tenant}/prometheus/api/v1/query?query={quote(expr)}"))


def values(host, tenant: str, expr: str) -> dict[str, str]:
    return {json.dumps(item["metric"], sort_keys=True): item["value"][1] for item in query(host, tenant, expr)["data"]["result"]}


def start_count(host, service: str) -> int:
    journal = host.check_output(f"journalctl --unit {service} --no-pager --output cat")
    return len(re.findall(rf"^Started {service}\.service", journal, flags=re.MULTILINE))


def version(host, binary: str) -> str:
    return host.check_output(f"/usr/local/bin/{binary}-prod -version")


def test_every_cluster_service_runs(host):
    others = {THIRD: ["vmalert", "alertmanager"], **{name: ["vmagent"] for name in AGENTS}}
    for name in NODES:
        for service in SERVICES[name] + others[name]:
            assert container(name).service(service).is_running, f"{service} on {name}"


def test_storage_nodes_and_replication_come_from_the_inventory(host):
    vminsert = host.file("/etc/systemd/system/vminsert.service").content_string
    vmselect = host.file("/etc/systemd/system/vmselect.service").content_string
    for node in NODES:
        assert f'"-storageNode={node}:8400"' in vminsert
        assert f'"-storageNode={node}:8401"' in vmselect
    assert '"-replicationFactor=2"' in vminsert and '"-replicationFactor=2"' in vmselect
    assert '"-dedup.minScrapeInterval=1ms"' in vmselect
    # vmstorage hands its connections off and flushes before it stops.
    assert "TimeoutStopSec=120s" in host.file("/etc/systemd/system/vmstorage.service").content_string


def test_snapshot_key_is_generated_kept_secret_and_required(host):
    kept = host.file("/etc/vmstorage/snapshot-auth-key")
    assert (kept.user, kept.group, kept.mode) == ("root", "root", 0o600)
    key = kept.content_string.strip()
    assert len(key) == 32
    assert key not in host.file("/etc/systemd/system/vmstorage.service").content_string
    assert key not in host.check_output("ps -eo args")
    assert host.file("/etc/vmstorage/vmstorage.env").mode == 0o640
    # Each node has its own key.
    assert container(SECOND).file("/etc/vmstorage/snapshot-auth-key").content_string.strip() != key
    refused = host.run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8482/snapshot/list")
    assert refused.stdout == "401"
    assert '"status":"ok"' in http_get(host, f"http://127.0.0.1:8482/snapshot/list?authKey={key}")


def test_a_sample_round_trips_within_its_tenant_only(host):
    write(host, "1", 'vmstack_tenant_probe{probe="one"} 11')
    write(host, "2:5", 'vmstack_tenant_probe{probe="two"} 25')
    assert wait_for(lambda: list(values(host, "1", "vmstack_tenant_probe").values()) == ["11"], timeout=60)
    assert wait_for(lambda: list(values(host, "2:5", "vmstack_tenant_probe").values()) == ["25"], timeout=60)
    assert values(host, "2", "vmstack_tenant_probe") == {}
    assert values(host, "0", "vmstack_tenant_probe") == {}


def test_the_oldest_supported_cluster_release_deploys_and_round_trips_a_sample():
    """1.79.5 on a host of its own (vmstorage, vminsert, vmselect; replication off on one node),
    after check mode on that fresh host."""
    releases = Path(os.environ.get("VMSTACK_SHARED", "")) / "vm-releases" / "VictoriaMetrics" / f"v{OLDEST_VERSION}-cluster"
    if not releases.is_dir():
        pytest.skip(f"the {OLDEST_VERSION} cluster release is not in {releases.parent} (see ../shared/vm-releases/README.md)")
    single = {group: [OLDEST] for group in ("vmstorage", "vminsert", "vmselect")}
    settings = {"vmstack_test_cluster_version": OLDEST_VERSION, "vmstack_replication_factor": 1}
    oldest = container(OLDEST)
    # First check mode on the fresh host: it runs through, would change it, and leaves it fresh.
    check = run_playbook(CONVERGE, [], groups=single, extra_vars=settings, options=["--check", "--diff"])
    assert check.returncode == 0, check.output
    assert check.changed(OLDEST) > 0, check.output
    left = [path for path in ("/usr/local/bin/vmstorage-prod", "/etc/systemd/system/vmstorage.service",
                              "/etc/systemd/system/vminsert.service", "/etc/systemd/system/vmselect.service",
                              "/etc/vmstorage", "/var/lib/vmstorage") if oldest.file(path).exists]
    assert left == []
    run = run_playbook(CONVERGE, [], groups=single, extra_vars=settings)
    assert run.returncode == 0, run.output
    for service in ("vmstorage", "vminsert", "vmselect"):
        assert f"v{OLDEST_VERSION}-cluster" in version(oldest, service)
    write(oldest, "3", 'vmstack_oldest_probe 179')
    assert wait_for(lambda: list(values(oldest, "3", "vmstack_oldest_probe").values()) == ["179"], timeout=60)


def complete(host, expr: str, count: int) -> bool:
    """Whether an instant query finds all `count` series and says its answer is not partial."""
    answer = query(host, "0", expr)
    return answer["isPartial"] is False and len(answer["data"]["result"]) == count


def test_one_storage_node_down_loses_no_read_and_no_write(host):
    """With replicationFactor 2 each series is on two of the three nodes: with one stopped, every
    series written before still reads back, complete (not partial), and series written during the
    outage still get two copies on the other two. With replication off about a third of the series
    would live only on the stopped node."""
    series = 20
    write(host, "0", "\n".join(f'vmstack_replica_probe{{n="{n}"}} {n}' for n in range(series)))
    assert wait_for(lambda: len(values(host, "0", "vmstack_replica_probe")) == series, timeout=60)
    second = container(SECOND)
    second.check_output("systemctl stop vmstorage")
    try:
        # A node makes fresh rows searchable after its in-memory flush (seconds): wait for it.
        assert wait_for(lambda: complete(host, "vmstack_replica_probe", series), timeout=30), \
            query(host, "0", "vmstack_replica_probe")
        write(host, "0", "\n".join(f'vmstack_outage_probe{{n="{n}"}} {n}' for n in range(series)))
        assert wait_for(lambda: complete(host, "vmstack_outage_probe", series), timeout=60), \
            query(host, "0", "vmstack_outage_probe")
    finally:
        second.check_output("systemctl start vmstorage")
    assert wait_for(lambda: http_get(second, "http://127.0.0.1:8482/health").strip() == "OK", timeout=60)
    # The node is back: every series of both batches reads back complete.
    assert wait_for(lambda: complete(host, "vmstack_replica_probe", series), timeout=30)
    assert wait_for(lambda: complete(host, "vmstack_outage_probe", series), timeout=30)


def active_targets(name: str) -> set[tuple[str, str]]:
    answer = json.loads(http_get(container(name), "http://127.0.0.1:8429/api/v1/targets"))
    return {(target["labels"]["job"], target["labels"]["instance"]) for target in answer["data"]["activeTargets"]}


def test_each_target_is_scraped_by_exactly_one_vmagent_shard(host):
    # Members are numbered in the sorted order of the vmagent group.
    for number, name in enumerate(sorted(AGENTS)):
        unit = container(name).file("/etc/systemd/system/vmagent.service").content_string
        assert '"-promscrape.cluster.membersCount=2"' in unit, unit
        assert f'"-promscrape.cluster.memberNum={number}"' in unit, unit
        assert "promscrape.cluster.replicationFactor" not in unit
    shards = {name: active_targets(name) for name in AGENTS}
    assert all(shards.values()), shards
    assert shards[FRONT] & shards[SECOND] == set()
    assert shards[FRONT] | shards[SECOND] == TARGETS

    def stored() -> dict[tuple[str, str], str]:
        return {(item["metric"]["job"], item["metric"]["instance"]): item["value"][1]
                for item in query(host, "0", "count by (job, instance) (up)")["data"]["result"]}

    # Both shards' samples arrive, each target's series once (no shard scrapes another's targets).
    assert wait_for(lambda: set(stored()) == TARGETS, timeout=60), stored()
    assert set(stored().values()) == {"1"}, stored()


def test_recording_rules_land_in_the_cluster_and_alerts_reach_alertmanager(host):
    assert wait_for(lambda: bool(values(host, "0", "vmstack_test:up:count")), timeout=60)

    def alerts() -> list[str]:
        answer = json.loads(http_get(host, f"http://{THIRD}:9093/api/v2/alerts"))
        return [alert["labels"]["alertname"] for alert in answer]

    assert wait_for(lambda: "ClusterTestScrapesArrive" in alerts(), timeout=60), alerts()


def test_check_mode_on_the_converged_cluster_reports_nothing(host):
    """The cluster's own roles (and their backups); vmagent, vmalert and
    Alertmanager are checked the same way in their scenarios and in stack,
    and the idempotence step has re-run them all here."""
    run = run_playbook(CONVERGE, [], groups=GROUPS, options=["--check", "--diff", "--tags", "vm,vmbackup"])
    assert run.returncode == 0, run.output
    assert {name: run.changed(name) for name in NODES} == dict.fromkeys(NODES, 0), run.output


def test_replication_factor_2_on_two_storage_nodes_and_an_unknown_flag_are_refused_before_any_change(host):
    """Two nodes keep both copies only while both are up: the preflight asks for 2 x 2 - 1 = 3.
    A misspelt flag would crash-loop vminsert: the flag catalogue names the flag meant."""
    units = {name: container(name).file("/etc/systemd/system/vminsert.service").content_string for name in NODES}
    run = run_playbook(CONVERGE, [], groups={**GROUPS, "vmstorage": [FRONT, SECOND]},
                       extra_vars={"vminsert_extra_flags": {"maxLabelsPerTimeseris": 40}})
    assert run.returncode != 0
    for name in NODES:
        for variable in ("vminsert_replication_factor", "vmselect_replication_factor"):
            assert f"{name}: {variable} is 2 but the vmstorage group has 2 node(s); a factor of 2 needs at least 3" in run.output
        assert (f"{name}: vminsert_extra_flags names '-maxLabelsPerTimeseris', which vminsert {OLD_VERSION} does not know; "
                "did you mean '-maxLabelsPerTimeseries'?") in run.output
    assert {name: container(name).file("/etc/systemd/system/vminsert.service").content_string for name in NODES} == units
    assert run.changed(FRONT) == 0, run.output


def test_rolling_upgrade_loses_no_sample_written_during_it(host, record_testsuite_property):
    """1.112.0 -> 1.150.0 one node at a time while a writer keeps writing through vminsert."""
    assert OLD_VERSION in version(host, "vmstorage")
    before = {(name, service): start_count(container(name), service) for name, services in SERVICES.items() for service in services}
    others = {(name, "vmagent"): start_count(container(name), "vmagent") for name in AGENTS}
    subprocess.run(["podman", "cp", str(WRITER), f"{FRONT}:/usr/local/bin/cluster-writer"], check=True)
    host.check_output("rm -rf /var/tmp/writer")
    host.check_output(
        "systemd-run --unit cluster-writer python3 /usr/local/bin/cluster-writer /var/tmp/writer "
        f"{INSERT}/0/prometheus/api/v1/import/prometheus "
        + " ".join(f"http://{name}:8482/health" for name in NODES))
    assert wait_for(lambda: host.file("/var/tmp/writer/acked").exists and host.file("/var/tmp/writer/acked").size > 0, timeout=30)
    started = time.monotonic()
    run = run_playbook(CONVERGE, [], groups=GROUPS, extra_vars={"vmstack_test_cluster_version": NEW_VERSION})
    took = time.monotonic() - started
    time.sleep(3)
    host.check_output("touch /var/tmp/writer/stop")
    assert wait_for(lambda: host.file("/var/tmp/writer/done").exists, timeout=60)
    assert run.returncode == 0, run.output

    for name, services in SERVICES.items():
        for service in services:
            assert NEW_VERSION in version(container(name), service)
            restarts = start_count(container(name), service) - before[(name, service)]
            assert restarts == 1, f"{service} on {name} started {restarts} times during the upgrade"
    # Only the cluster's binaries changed: the scrapers keep running.
    assert {key: start_count(container(key[0]), "vmagent") for key in others} == others
    max_down = int(host.file("/var/tmp/writer/max-down").content_string.strip() or 0) if host.file("/var/tmp/writer/max-down").exists else 0
    assert max_down <= 1, f"{max_down} vmstorage nodes were down at once"

    acked = sorted({int(line) for line in host.file("/var/tmp/writer/acked").content_string.split()})
    first, last = acked[0], acked[-1]
    window = f"{(last - first) // 1000 + 5}s"
    at = last / 1000 + 1

    def stored() -> int:
        url = (f"{SELECT}/0/prometheus/api/v1/query?query={quote(f'count_over_time(vmstack_rolling_probe[{window}])')}"
               f"&time={at}&nocache=1")
        result = json.loads(http_get(host, url))["data"]["result"]
        return int(float(result[0]["value"][1])) if result else 0

    assert wait_for(lambda: stored() == len(acked), timeout=60), f"{stored()} stored of {len(acked)} written"
    # The scenario's figures, in the JUnit report.
    for name, value in (("rolling_upgrade_seconds", round(took)), ("samples_written_and_found", len(acked)),
                        ("max_vmstorage_nodes_down", max_down)):
        record_testsuite_property(name, value)
    print(f"rolling upgrade: {took:.0f} s, {len(acked)} samples written and found, "
          f"at most {max_down} vmstorage node(s) down at once")
