# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Backups that have been restored: the vmbackup role and playbooks/restore.yml
on a real systemd host with the real vmbackup, vmrestore and VictoriaMetrics.

The timers' services are started by hand instead of waiting for OnCalendar=.
Tests run in file order and build on each other: the round trip first, the
retention and the failure metrics next, turning backups off last.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from stacktest import container, http_get, run_playbook, wait_for

SCENARIO = Path(__file__).resolve().parent.parent
CONVERGE = SCENARIO / "converge.yml"
RESTORE = SCENARIO.parent.parent / "playbooks" / "restore.yml"
HOST = "vmstack-backup-vm"
GROUPS = {"converged": [HOST], "victoria_metrics": [HOST]}
BASE = "http://127.0.0.1:8428"
AUTH_KEY = "backup-test-key"
BACKUPS = f"/var/backups/vmstack/{HOST}"
DATA = "/var/lib/victoria-metrics"
TEXTFILE = "/var/lib/node_exporter/textfile"
SERIES = 'backup_test_value'


def write_samples(host, batch: str, count: int) -> None:
    """count series of one batch, each with three known values at known times."""
    now = int(time.time()) - 600
    lines = [f'{SERIES}{{batch="{batch}",n="{n}"}} {n * 10 + step} {(now + step * 60) * 1000}'
             for n in range(count) for step in range(3)]
    host.check_output(f"printf '%s\\n' {' '.join(repr(line) for line in lines)} "
                      f"| curl -fsS --data-binary @- {BASE}/api/v1/import/prometheus")
    # Rows reach the disk within seconds; a flush makes the snapshot see all of them now.
    host.check_output(f"curl -fsS {BASE}/internal/force_flush")


def export(host) -> list[dict]:
    """Every test series with all its values, in a stable order."""
    body = http_get(host, f"{BASE}/api/v1/export?match[]={SERIES}")
    return sorted((json.loads(line) for line in body.splitlines() if line.strip()),
                  key=lambda series: json.dumps(series["metric"], sort_keys=True))


def start_backup(host, schedule: str):
    """Start the timer's service and wait until the oneshot run has ended."""
    return host.run(f"systemctl start vmbackup-{schedule}.service")


def metrics(host, schedule: str) -> dict[str, float]:
    text = host.check_output(f"cat {TEXTFILE}/vmbackup-{schedule}.prom")
    return {match.group(1): float(match.group(2))
            for match in re.finditer(r'^vmstack_backup_(\w+)\{schedule="' + schedule + r'"\} (\S+)$', text, re.M)}


def restore(extra_vars: dict):
    """playbooks/restore.yml with the destination the inventory would hold (group_vars)."""
    settings = {"vmbackup_destination_base": "fs:///var/backups/vmstack", **extra_vars}
    return run_playbook(RESTORE, [HOST], extra_vars=settings, groups=GROUPS)


def record_figures(lines: list[str]) -> None:
    """Keep vmbackup's and vmrestore's own summary lines (sizes, seconds) for the report."""
    reports = os.environ.get("VMSTACK_REPORTS")
    if reports:
        with open(Path(reports) / "backup-figures.txt", "a", encoding="utf-8") as figures:
            figures.writelines(line + "\n" for line in lines)


def main_pid(host) -> str:
    return host.check_output("systemctl show --property MainPID --value victoria-metrics")


def test_timers_enabled_and_units_valid(host):
    for schedule in ("latest", "daily"):
        timer = host.service(f"vmbackup-{schedule}.timer")
        assert timer.is_enabled and timer.is_running
        verify = host.run(f"systemd-analyze verify /etc/systemd/system/vmbackup-{schedule}.service")
        assert verify.rc == 0, verify.stderr


def test_backup_runs_as_the_data_owner_with_only_its_folder_writable(host):
    show = host.check_output("systemctl show vmbackup-latest.service -p User -p ReadWritePaths -p ProtectSystem")
    assert "User=victoria-metrics" in show
    assert f"ReadWritePaths={BACKUPS}\n" in show + "\n"
    assert "ProtectSystem=strict" in show
    folder = host.file(BACKUPS)
    assert folder.user == "victoria-metrics" and folder.mode == 0o700


def test_auth_key_is_only_in_the_environment_file(host):
    unit = host.check_output("systemctl cat vmbackup-latest.service vmbackup-daily.service")
    assert AUTH_KEY not in unit
    assert AUTH_KEY not in host.check_output("systemctl show vmbackup-latest.service -p ExecStart")
    environment = host.file("/etc/vmbackup/vmbackup.env")
    assert environment.mode == 0o640 and environment.user == "root" and environment.group == "victoria-metrics"
    assert AUTH_KEY in environment.content_string


def test_round_trip_restores_every_series_and_value(host):
    write_samples(host, "first", 20)
    first = start_backup(host, "latest")
    assert first.rc == 0, host.check_output("journalctl -u vmbackup-latest --no-pager -n 30")
    assert host.file(f"{BACKUPS}/latest/backup_complete.ignore").exists
    first_metrics = metrics(host, "latest")
    assert first_metrics["last_run_failed"] == 0 and first_metrics["last_success_size_bytes"] > 0
    # More data, then an incremental backup into the same destination.
    write_samples(host, "second", 20)
    assert start_backup(host, "latest").rc == 0
    backed_up = export(host)
    assert len(backed_up) == 40 and all(len(series["values"]) == 3 for series in backed_up)
    assert metrics(host, "latest")["last_success_timestamp_seconds"] >= first_metrics["last_success_timestamp_seconds"]

    host.check_output(f"systemctl stop victoria-metrics && rm -rf {DATA}/* && systemctl start victoria-metrics")
    assert wait_for(lambda: http_get(host, f"{BASE}/health").strip() == "OK", timeout=60)
    assert export(host) == []

    run = restore({"vmbackup_restore_confirm": True})
    assert run.returncode == 0, run.output
    assert f"restored {DATA} from fs://{BACKUPS}/latest" in run.output
    assert http_get(host, f"{BASE}/health").strip() == "OK"
    assert export(host) == backed_up
    # vmrestore's own summary, in the play's output (folded there by the callback).
    restored = re.findall(r"restored \d+ bytes from backup in [\d.]+ seconds", " ".join(run.output.split()))
    assert restored, run.output
    record_figures(re.findall(r"^.*backed up \d+ bytes.*$",
                              host.check_output("journalctl -u vmbackup-latest --no-pager -o cat"), re.M) + restored)
    assert host.file(DATA).user == "victoria-metrics"
    assert host.check_output(f"find {DATA} ! -user victoria-metrics | head -1") == ""


def test_auth_key_never_reaches_the_journal(host):
    """vmbackup logs its snapshot URL whole: the helper makes the snapshot itself."""
    journal = host.check_output("journalctl -u 'vmbackup-*' -u victoria-metrics --no-pager -o cat")
    assert "backed up" in journal
    assert AUTH_KEY not in journal


def test_restore_refused_without_confirmation(host):
    pid = main_pid(host)
    run = restore({})
    assert run.returncode != 0
    assert f"{HOST}: vmbackup_restore_confirm is not true" in run.output
    assert main_pid(host) == pid


def test_restore_refused_from_a_backup_that_does_not_exist(host):
    pid = main_pid(host)
    run = restore({"vmbackup_restore_confirm": True, "vmbackup_restore_from": "2001-01-01"})
    assert run.returncode != 0
    assert f"{BACKUPS}/daily/2001-01-01 does not exist or is incomplete" in run.output
    assert main_pid(host) == pid


def test_dated_backups_copy_from_latest_and_are_pruned(host):
    # Three older dated backups (copies of a real one) and a folder that is not a backup.
    as_owner = "runuser -u victoria-metrics --"
    host.check_output(f"{as_owner} mkdir -p {BACKUPS}/daily/not-a-backup")
    for day in ("2020-01-01", "2020-01-02", "2020-01-03"):
        host.check_output(f"{as_owner} cp -a {BACKUPS}/latest {BACKUPS}/daily/{day}")
    run = start_backup(host, "daily")
    journal = host.check_output("journalctl -u vmbackup-daily --no-pager -o cat")
    assert run.rc == 0, journal
    today = host.check_output("date -u +%Y-%m-%d")
    remaining = sorted(host.check_output(f"ls {BACKUPS}/daily").split())
    assert remaining == ["2020-01-03", today, "not-a-backup"]
    assert host.file(f"{BACKUPS}/daily/{today}/backup_complete.ignore").exists
    assert "with origin fsremote" in journal and f"removed {BACKUPS}/daily/2020-01-01 (retention)" in journal
    assert metrics(host, "daily")["last_run_failed"] == 0


def test_a_failed_run_is_reported_and_a_good_one_clears_it(host):
    before = metrics(host, "latest")
    host.check_output("systemctl stop victoria-metrics")
    try:
        assert start_backup(host, "latest").rc != 0
        failed = metrics(host, "latest")
        assert failed["last_run_failed"] == 1
        assert failed["last_success_timestamp_seconds"] == before["last_success_timestamp_seconds"]
        assert failed["last_success_size_bytes"] == before["last_success_size_bytes"]
    finally:
        host.check_output("systemctl start victoria-metrics")
    assert wait_for(lambda: http_get(host, f"{BASE}/health").strip() == "OK", timeout=60)
    assert start_backup(host, "latest").rc == 0
    assert metrics(host, "latest")["last_run_failed"] == 0


def test_node_exporter_exports_the_metrics_the_alerts_read(host):
    exported = http_get(host, "http://127.0.0.1:9100/metrics")
    for name in ("last_success_timestamp_seconds", "last_run_failed", "max_age_seconds"):
        assert f'vmstack_backup_{name}{{schedule="latest"}}' in exported
    assert 'vmstack_backup_max_age_seconds{schedule="daily"} 93600' in exported


def test_check_mode_changes_nothing():
    run = run_playbook(CONVERGE, [HOST], options=["--check", "--diff"])
    assert run.returncode == 0, run.output
    assert run.changed(HOST) == 0, run.output


def test_destination_inside_the_data_directory_refused(host):
    run = run_playbook(CONVERGE, [HOST], extra_vars={"vmbackup_destination_base": f"fs://{DATA}/backups"})
    assert run.returncode != 0
    assert f"{HOST}: vmbackup_destination_base" in run.output and "outside the data directory" in run.output
    assert not host.file(f"{DATA}/backups").exists


def test_turning_backups_off_removes_the_timers():
    host = container(HOST)
    run = run_playbook(CONVERGE, [HOST], extra_vars={"vmbackup_enabled": False})
    assert run.returncode == 0, run.output
    for schedule in ("latest", "daily"):
        assert not host.file(f"/etc/systemd/system/vmbackup-{schedule}.timer").exists
        assert not host.file(f"/etc/systemd/system/vmbackup-{schedule}.service").exists
        assert not host.file(f"{TEXTFILE}/vmbackup-{schedule}.prom").exists
        assert host.run(f"systemctl cat vmbackup-{schedule}.timer").rc != 0
    assert "vmbackup-" not in host.check_output("systemctl list-timers --all --no-pager")
    assert host.file(f"{BACKUPS}/latest/backup_complete.ignore").exists, "backups taken stay"
    assert not host.file("/etc/vmbackup/vmbackup.env").exists, "the auth key stays behind"
    again = run_playbook(CONVERGE, [HOST], extra_vars={"vmbackup_enabled": False})
    assert again.returncode == 0 and again.changed(HOST) == 0, again.output
