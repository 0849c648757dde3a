# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Backups of a VictoriaMetrics cluster and its restore, on three real systemd
hosts with the real cluster binaries (1.150.0) and vmutils, deployed with
playbooks/setup.yml (../cluster.yml): vmstorage on each, vminsert and
vmselect on c1, replicationFactor 1 (every series on one node only, so the
round trip needs every node's own backup).

Tests run in file order and build on each other.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from pathlib import Path

import pytest
from stacktest import container, http_get, run_playbook, wait_for
from test_backup import record_figures

SCENARIO = Path(__file__).resolve().parent.parent
CLUSTER = SCENARIO / "cluster.yml"
RESTORE = SCENARIO.parent.parent / "playbooks" / "restore.yml"
NODES = ["vmstack-backup-c1", "vmstack-backup-c2", "vmstack-backup-c3"]
FRONT = NODES[0]
GROUPS = {"vmstorage": NODES, "vminsert": [FRONT], "vmselect": [FRONT]}
INSERT = "http://127.0.0.1:8480/insert/0/prometheus"
SELECT = "http://127.0.0.1:8481/select/0/prometheus"
STORAGE = "http://127.0.0.1:8482"
DATA = "/var/lib/vmstorage"
BASE = "/var/backups/cluster"
SERIES = "cluster_backup_value"
RELEASES = Path(os.environ.get("VMSTACK_SHARED", "/nonexistent")) / "vm-releases" / "VictoriaMetrics" / "v1.150.0-cluster"
# The bench shares two cores with other runs: give slow connections time.
os.environ.setdefault("ANSIBLE_TIMEOUT", "60")

pytestmark = pytest.mark.skipif(not RELEASES.is_dir(), reason=f"needs the real cluster binaries in {RELEASES}")


def node(name: str):
    return container(name)


def write_samples(batch: str, count: int) -> None:
    """count series of one batch through vminsert, each with three known values at known times."""
    now = int(time.time()) - 600
    lines = [f'{SERIES}{{batch="{batch}",n="{n}"}} {n * 10 + step} {(now + step * 60) * 1000}'
             for n in range(count) for step in range(3)]
    node(FRONT).check_output(f"printf '%s\\n' {' '.join(shlex.quote(line) for line in lines)} "
                             f"| curl -fsS --data-binary @- {INSERT}/api/v1/import/prometheus")


def export() -> list[dict]:
    """Every test series with all its values, through vmselect, in a stable order."""
    body = http_get(node(FRONT), f"{SELECT}/api/v1/export?match[]={SERIES}")
    return sorted((json.loads(line) for line in body.splitlines() if line.strip()),
                  key=lambda series: json.dumps(series["metric"], sort_keys=True))


def settle(count: int) -> list[dict]:
    """Wait until vmselect returns count series of three values each, then flush every node to disk."""
    assert wait_for(lambda: len(export()) == count and all(len(s["values"]) == 3 for s in export()), timeout=60)
    for name in NODES:
        node(name).check_output(f"curl -fsS {STORAGE}/internal/force_flush")
    return export()


def backup_all() -> None:
    for name in NODES:
        run = node(name).run("systemctl start vmbackup-latest.service")
        assert run.rc == 0, node(name).check_output("journalctl -u vmbackup-latest --no-pager -n 30")
        assert node(name).file(f"{BASE}/{name}/latest/backup_complete.ignore").exists


def show(name: str, unit: str, prop: str) -> str:
    return node(name).check_output(f"systemctl show --property {prop} --value {unit}")


def monotonic(name: str, unit: str, prop: str) -> int:
    return int(show(name, unit, f"{prop}TimestampMonotonic"))


def restore(extra_vars: dict):
    """playbooks/restore.yml for the vmstorage group, with the destination the inventory would hold."""
    settings = {"vmbackup_destination_base": f"fs://{BASE}", "vmstack_restore_hosts": "vmstorage", **extra_vars}
    return run_playbook(RESTORE, [], extra_vars=settings, groups=GROUPS)


def storage_pids() -> dict[str, str]:
    return {name: show(name, "vmstorage", "MainPID") for name in NODES}


def wipe_every_node() -> None:
    for name in NODES:
        node(name).check_output(f"systemctl stop vmstorage && rm -rf {DATA}/* && systemctl start vmstorage")
    for name in NODES:
        assert wait_for(lambda name=name: http_get(node(name), f"{STORAGE}/health").strip() == "OK", timeout=60)


def test_every_node_backs_up_its_own_data_into_its_own_folder():
    run = run_playbook(CLUSTER, [], groups=GROUPS)
    assert run.returncode == 0, run.output
    for name in NODES:
        host = node(name)
        timer = host.service("vmbackup-latest.timer")
        assert timer.is_enabled and timer.is_running
        unit = host.check_output("systemctl show vmbackup-latest.service -p User -p ReadWritePaths -p ExecStart")
        assert "User=vmstorage" in unit
        assert f"ReadWritePaths={BASE}/{name}\n" in unit + "\n"
        assert f"-storageDataPath={DATA}" in unit
        # The node's generated snapshot key reaches vmbackup through its environment file only.
        key = host.check_output("cat /etc/vmstorage/snapshot-auth-key")
        assert key and key not in unit
        assert f"authKey={key}" in host.check_output("cat /etc/vmbackup/vmbackup.env")


def test_cluster_round_trip_restores_every_series_and_value():
    write_samples("first", 30)
    settle(30)
    # Every node holds a share of the series (replicationFactor 1).
    for name in NODES:
        added = re.search(r"^vm_rows_added_to_storage_total (\d+)$",
                          http_get(node(name), f"{STORAGE}/metrics"), re.M)
        assert added and int(added.group(1)) > 0, name
    backup_all()
    # More data, then an incremental backup into the same destinations.
    write_samples("second", 30)
    backed_up = settle(60)
    backup_all()

    wipe_every_node()
    assert export() == []

    run = restore({"vmbackup_restore_confirm": True})
    assert run.returncode == 0, run.output
    for name in NODES:
        assert f"{name}: restored {DATA} from fs://{BASE}/{name}/latest" in " ".join(run.output.split())
        assert node(name).service("vmbackup-latest.timer").is_running, "the timers resume"
        assert node(name).check_output(f"find {DATA} ! -user vmstorage | head -1") == ""
    # One node at a time: each was back before the next one stopped.
    for previous, following in zip(NODES, NODES[1:]):
        assert monotonic(previous, "vmstorage", "ActiveEnter") < monotonic(following, "vmstorage", "InactiveEnter")
    # The restore waited for complete answers from vmselect; under load an
    # export may still trail the last node's start by a moment.
    assert wait_for(lambda: export() == backed_up, timeout=30), export()
    # vmbackup's and vmrestore's own summaries (sizes, seconds) for the report.
    restored = re.findall(r"restored \d+ bytes from backup in [\d.]+ seconds", " ".join(run.output.split()))
    assert restored, run.output
    record_figures([f"cluster: {line}" for name in NODES for line in re.findall(
        r"^.*backed up \d+ bytes.*$", node(name).check_output("journalctl -u vmbackup-latest --no-pager -o cat"), re.M)]
        + [f"cluster: {line}" for line in restored])


def test_whole_cluster_restore_stops_every_node_before_any_start():
    before = export()
    run = restore({"vmbackup_restore_confirm": True, "vmbackup_restore_whole_cluster": True})
    assert run.returncode == 0, run.output
    last_stop = max(monotonic(name, "vmstorage", "InactiveEnter") for name in NODES)
    first_start = min(monotonic(name, "vmstorage", "ActiveEnter") for name in NODES)
    assert last_stop < first_start
    assert export() == before


def test_restore_refused_when_one_node_has_no_backup():
    missing = NODES[2]
    pids = storage_pids()
    node(missing).check_output(f"mv {BASE}/{missing}/latest {BASE}/{missing}/latest.away")
    try:
        run = restore({"vmbackup_restore_confirm": True})
    finally:
        node(missing).check_output(f"mv {BASE}/{missing}/latest.away {BASE}/{missing}/latest")
    assert run.returncode != 0
    assert f"{missing}: vmbackup_restore_from: fs://{BASE}/{missing}/latest does not exist or is incomplete" in run.output
    assert storage_pids() == pids, "no node was stopped"


def test_two_nodes_with_one_destination_refused_before_any_change():
    pids = storage_pids()
    run = run_playbook(CLUSTER, [], groups=GROUPS, extra_vars={"vmbackup_destination_name": "shared"})
    assert run.returncode != 0
    assert f"vmbackup_destination_name: fs://{BASE}/shared is also the backup folder of" in run.output
    assert all(run.changed(name) == 0 for name in NODES), run.output
    assert storage_pids() == pids


def test_a_backup_is_taken_before_the_vmstorage_binary_changes():
    """A changed binary on disk (one byte appended to a copy, moved into place
    while the release's binary keeps running) is what setup sees before an
    upgrade: it must back up first, then install the release's binary and restart."""
    upgraded = NODES[1]
    host = node(upgraded)
    binary = "/usr/local/bin/vmstorage-prod"
    release = host.check_output(f"sha256sum {binary}").split()[0]
    host.check_output(f"cp -p {binary} {binary}.test && printf '\\0' >> {binary}.test && mv {binary}.test {binary}")
    started_before = monotonic(upgraded, "vmstorage", "ExecMainStart")
    backed_up_before = monotonic(upgraded, "vmbackup-latest.service", "ExecMainStart")
    # A check run reports the new binary and takes no backup.
    check = run_playbook(CLUSTER, [], groups=GROUPS, options=["--limit", upgraded, "--check"])
    assert check.returncode == 0 and check.changed(upgraded) > 0, check.output
    assert monotonic(upgraded, "vmbackup-latest.service", "ExecMainStart") == backed_up_before
    assert host.check_output(f"sha256sum {binary}").split()[0] != release
    since = int(float(host.check_output("cut -d' ' -f1 /proc/uptime")) * 1_000_000)
    # With --tags vm, as an upgrade of the storage alone runs: the backup's
    # tasks belong to the vmbackup role and must run all the same.
    run = run_playbook(CLUSTER, [], groups=GROUPS, options=["--limit", upgraded, "--tags", "vm"])
    assert run.returncode == 0, run.output
    assert host.check_output(f"sha256sum {binary}").split()[0] == release
    backup_start = monotonic(upgraded, "vmbackup-latest.service", "ExecMainStart")
    backup_end = monotonic(upgraded, "vmbackup-latest.service", "ExecMainExit")
    storage_start = monotonic(upgraded, "vmstorage", "ExecMainStart")
    assert show(upgraded, "vmbackup-latest.service", "Result") == "success"
    assert since < backup_start < backup_end < storage_start, (since, backup_start, backup_end, storage_start)
    assert storage_start > started_before, "vmstorage restarted on the new binary"
    # The other nodes' binaries did not change: no backup ran there.
    for name in (NODES[0], NODES[2]):
        assert monotonic(name, "vmbackup-latest.service", "ExecMainStart") < since
    # The run after it changes nothing and takes no backup.
    again = run_playbook(CLUSTER, [], groups=GROUPS, options=["--limit", upgraded])
    assert again.returncode == 0 and again.changed(upgraded) == 0, again.output
    assert monotonic(upgraded, "vmbackup-latest.service", "ExecMainStart") == backup_start
