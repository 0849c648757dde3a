# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The vmbackup role's checks, refused on the controller before any host is
touched: run through vmstack.monitoring.validate (the checks of setup.yml)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ansible")

ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")


def validate(env: dict[str, str], tmp_path: Path, hosts: dict[str, dict[str, Any]],
             group_vars: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"children": {"victoria_metrics": {
        "hosts": hosts, "vars": {"ansible_connection": "local", **group_vars}}}}}))
    # Only the vmbackup checks (and the play that lists the findings): quicker.
    return subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", str(inventory), "vmstack.monitoring.validate", "--tags", "vmbackup"],
                          env=env, capture_output=True, text=True, timeout=300, check=False)


BASE = {"vmbackup_destination_base": "fs:///var/backups/vm"}


def test_each_host_in_its_own_folder_passes(collection_env, tmp_path):
    result = validate(collection_env, tmp_path, {"db1": {}, "db2": {}}, BASE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_two_hosts_with_one_backup_folder_are_refused(collection_env, tmp_path):
    result = validate(collection_env, tmp_path, {"db1": {"vmbackup_destination_name": "db"},
                                                 "db2": {"vmbackup_destination_name": "db"}}, BASE)
    output = (result.stdout + result.stderr).replace('\\"', '"')  # JSON-escaped before ansible-core 2.19
    assert result.returncode != 0
    assert "db1: vmbackup_destination_name: fs:///var/backups/vm/db is also the backup folder of db2" in output
    assert "db2: vmbackup_destination_name: fs:///var/backups/vm/db is also the backup folder of db1" in output


def test_a_destination_in_or_around_the_data_directory_or_not_fs_or_s3_is_refused(collection_env, tmp_path):
    hosts = {
        "inside": {"vmbackup_destination_base": "fs:///var/lib/victoria-metrics/backups"},
        "around": {"vmbackup_destination_base": "fs:///srv/vm", "victoria_metrics_data_path": "/srv/vm/around/data"},
        "remote": {"vmbackup_destination_base": "gs://bucket/vm"},
        "bad-bucket": {"vmbackup_destination_base": "s3://Bad_Bucket/vm"},
        "no-url": {"vmbackup_destination_base": "/srv/vm"},
    }
    result = validate(collection_env, tmp_path, hosts, {})
    output = (result.stdout + result.stderr).replace('\\"', '"')  # JSON-escaped before ansible-core 2.19
    assert result.returncode != 0
    for host, settings in hosts.items():
        assert f'{host}: vmbackup_destination_base: "{settings["vmbackup_destination_base"]}"' in output


def test_backups_off_needs_no_destination(collection_env, tmp_path):
    result = validate(collection_env, tmp_path, {"db1": {}}, {})
    assert result.returncode == 0, result.stdout + result.stderr


S3 = {"vmbackup_destination_base": "s3://backups/vm", "vmbackup_s3_endpoint": "http://minio.example:9000",
      "vmbackup_s3_access_key": "AKIDTEST", "vmbackup_s3_secret_key": "not-shown-secret"}


def test_s3_with_keys_and_an_endpoint_passes(collection_env, tmp_path):
    result = validate(collection_env, tmp_path, {"db1": {}, "db2": {}}, S3)
    assert result.returncode == 0, result.stdout + result.stderr


def test_s3_without_keys_or_with_a_malformed_endpoint_is_refused_without_showing_the_secret(collection_env, tmp_path):
    hosts = {
        "no-keys": {"vmbackup_s3_access_key": "", "vmbackup_s3_secret_key": ""},
        "no-secret": {"vmbackup_s3_secret_key": ""},
        "path-in-endpoint": {"vmbackup_s3_endpoint": "http://minio.example:9000/bucket"},
        "no-scheme": {"vmbackup_s3_endpoint": "minio.example:9000"},
        "ok": {},
    }
    result = validate(collection_env, tmp_path, hosts, S3)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for host in hosts:
        found = f"{host}: an s3:// destination needs vmbackup_s3_access_key and vmbackup_s3_secret_key" in output
        assert found == (host != "ok"), host
    assert "http://minio.example:9000/bucket" in output
    assert "not-shown-secret" not in output
