# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Backups to s3:// through vmbackup's own S3 client, against a STAND-IN for
an S3-compatible store: moto's server mode (PyPI, pinned in
requirements-dev.txt), started on the controller where the container reaches
it (host.containers.internal) and stopped at the end. No S3 server but Ceph's
gateway is packaged for Debian; moto speaks the same protocol (signed
requests, ListObjectsV2, server-side copies), so the destination layout, the
credentials file and the retention's own S3 calls are real; moto's behaviour
under load, consistency and error cases are not AWS's or MinIO's.

Runs after test_backup.py (which ends with backups turned off) on the same
host; the tests build on each other in file order.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
import pytest
from stacktest import container, http_get, run_playbook, wait_for
from test_backup import BASE, CONVERGE, DATA, HOST, export, metrics, record_figures, restore, start_backup, write_samples

BUCKET = "vmstack-backups"
ACCESS_KEY = "vmstack-test-access"
SECRET_KEY = "vmstack-test-SECRET-6d1f0c"
PREFIX = f"stack/{HOST}"
CREDENTIALS = "/etc/vmbackup/s3-credentials"


@pytest.fixture(scope="module")
def stand_in():
    """moto's server on the bridge's gateway address; yields (endpoint the host uses, boto3 client)."""
    gateway = container(HOST).check_output("getent hosts host.containers.internal").split()[0]
    with socket.socket() as probe:
        probe.bind((gateway, 0))
        port = probe.getsockname()[1]
    endpoint = f"http://host.containers.internal:{port}"
    # moto takes the first label of a host name it does not know for a bucket
    # (virtual-hosted style); this one it must read as the endpoint.
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", gateway, "-p", str(port)],
                              env=dict(os.environ, MOTO_S3_CUSTOM_ENDPOINTS=endpoint),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = boto3.client("s3", endpoint_url=f"http://{gateway}:{port}", region_name="us-east-1",
                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        assert wait_for(lambda: _answers(f"http://{gateway}:{port}/"), timeout=30), "moto did not start"
        client.create_bucket(Bucket=BUCKET)
        yield endpoint, client
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(url: str) -> bool:
    """Whether a server answers at url at all (any status)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def settings(stand_in):
    return {"vmbackup_destination_base": f"s3://{BUCKET}/stack", "vmbackup_s3_endpoint": stand_in[0],
            "vmbackup_s3_access_key": ACCESS_KEY, "vmbackup_s3_secret_key": SECRET_KEY}


def keys(client, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_converge_to_s3_keeps_the_keys_out_of_the_output_and_is_idempotent(settings):
    run = run_playbook(CONVERGE, [HOST], extra_vars=settings)
    assert run.returncode == 0, run.output
    assert SECRET_KEY not in run.output and ACCESS_KEY not in run.output
    again = run_playbook(CONVERGE, [HOST], extra_vars=settings)
    assert again.returncode == 0 and again.changed(HOST) == 0, again.output
    check = run_playbook(CONVERGE, [HOST], extra_vars=settings, options=["--check", "--diff"])
    assert check.returncode == 0 and check.changed(HOST) == 0, check.output
    assert SECRET_KEY not in check.output


def test_credentials_only_in_the_service_users_file(host):
    credentials = host.file(CREDENTIALS)
    assert credentials.mode == 0o600 and credentials.user == "victoria-metrics"
    assert SECRET_KEY in credentials.content_string
    units = host.check_output("systemctl cat vmbackup-latest.service vmbackup-daily.service")
    shown = host.check_output("systemctl show vmbackup-latest.service vmbackup-daily.service")
    assert f"-credsFilePath={CREDENTIALS}" in shown and "-customS3Endpoint=http://host.containers.internal:" in shown
    assert SECRET_KEY not in units + shown and ACCESS_KEY not in units + shown
    assert not host.file("/root/.aws").exists
    for schedule in ("latest", "daily"):
        verify = host.run(f"systemd-analyze verify /etc/systemd/system/vmbackup-{schedule}.service")
        assert verify.rc == 0, verify.stderr
    # Nothing local to write: the fs:// folder is no longer writable.
    assert host.check_output("systemctl show -p ReadWritePaths --value vmbackup-latest.service") == ""


def test_s3_round_trip_restores_every_series_and_value(host, settings, stand_in):
    client = stand_in[1]
    write_samples(host, "s3-first", 10)
    # The command lines of the run, sampled while it lasts (its metrics are
    # written while it is deactivating), never hold a key.
    sampled = host.check_output(
        "systemctl start --no-block vmbackup-latest.service; for i in $(seq 600); do "
        "state=$(systemctl show -p ActiveState --value vmbackup-latest.service); "
        "[ $state = activating ] || [ $state = deactivating ] || { [ $i -lt 40 ] && [ $state = inactive ]; } || break; "
        "ps -eo args; sleep 0.05; done; systemctl show -p Result --value vmbackup-latest.service")
    assert sampled.splitlines()[-1] == "success", host.check_output("journalctl -u vmbackup-latest --no-pager -n 30")
    assert "-credsFilePath=" in sampled, "no sample caught the run"
    assert SECRET_KEY not in sampled and ACCESS_KEY not in sampled
    assert f"{PREFIX}/latest/backup_complete.ignore" in keys(client, f"{PREFIX}/latest/")
    assert metrics(host, "latest")["last_success_size_bytes"] > 0
    # More data, then an incremental backup into the same destination.
    write_samples(host, "s3-second", 10)
    assert start_backup(host, "latest").rc == 0
    backed_up = export(host)
    assert {series["metric"]["batch"] for series in backed_up} >= {"s3-first", "s3-second"}

    host.check_output(f"systemctl stop victoria-metrics && rm -rf {DATA}/* && systemctl start victoria-metrics")
    assert wait_for(lambda: http_get(host, f"{BASE}/health").strip() == "OK", timeout=60)
    assert export(host) == []

    run = restore({**settings, "vmbackup_restore_confirm": True})
    assert run.returncode == 0, run.output
    assert f"restored {DATA} from s3://{BUCKET}/{PREFIX}/latest" in run.output
    assert SECRET_KEY not in run.output
    assert export(host) == backed_up
    restored = re.findall(r"restored \d+ bytes from backup in [\d.]+ seconds", " ".join(run.output.split()))
    assert restored, run.output
    backed = [line for line in host.check_output("journalctl -u vmbackup-latest --no-pager -o cat").splitlines()
              if "backed up" in line and "to S3{" in line]
    record_figures([f"s3 (moto stand-in): {line}" for line in backed + restored])


def test_restore_refused_from_an_s3_backup_that_does_not_exist(host, settings):
    pid = host.check_output("systemctl show --property MainPID --value victoria-metrics")
    run = restore({**settings, "vmbackup_restore_confirm": True, "vmbackup_restore_from": "2001-01-01"})
    assert run.returncode != 0
    assert f"s3://{BUCKET}/{PREFIX}/daily/2001-01-01 does not exist or is incomplete" in run.output
    assert host.check_output("systemctl show --property MainPID --value victoria-metrics") == pid


def test_dated_s3_backups_copy_from_latest_and_are_pruned(host, stand_in):
    client = stand_in[1]
    # Three older dated backups (server-side copies of the real one) and an object that is not a backup.
    latest = keys(client, f"{PREFIX}/latest/")
    for day in ("2020-01-01", "2020-01-02", "2020-01-03"):
        for key in latest:
            client.copy_object(Bucket=BUCKET, Key=key.replace("/latest/", f"/daily/{day}/", 1),
                               CopySource={"Bucket": BUCKET, "Key": key})
    client.put_object(Bucket=BUCKET, Key=f"{PREFIX}/daily/not-a-backup/notes", Body=b"kept")
    run = start_backup(host, "daily")
    # This run's lines only (test_backup.py ran the fs:// schedule before).
    journal = host.check_output("journalctl -u vmbackup-daily --no-pager -o cat _SYSTEMD_INVOCATION_ID="
                                "$(systemctl show -p InvocationID --value vmbackup-daily.service)")
    assert run.rc == 0, journal
    today = host.check_output("date -u +%Y-%m-%d")
    folders = sorted({key.split("/")[3] for key in keys(client, f"{PREFIX}/daily/")})
    assert folders == ["2020-01-03", today, "not-a-backup"]
    assert f"{PREFIX}/daily/{today}/backup_complete.ignore" in keys(client, f"{PREFIX}/daily/{today}/")
    assert f"removed s3://{BUCKET}/{PREFIX}/daily/2020-01-01 (retention)" in journal
    # The helper found latest complete in S3 and handed it to vmbackup for server-side copies.
    assert re.search(rf"with origin .*{BUCKET}.*{PREFIX}/latest.* is complete", journal), journal
    daily = metrics(host, "daily")
    assert daily["last_run_failed"] == 0 and daily["last_success_size_bytes"] > 0
