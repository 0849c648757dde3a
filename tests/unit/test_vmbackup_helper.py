# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The backup helper the vmbackup role installs (roles/vmbackup/files/vmstack-backup):
destinations, retention and the textfile each run writes."""

from __future__ import annotations

import datetime
import importlib.machinery
import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

HELPER_PATH = Path(__file__).resolve().parents[2] / "roles/vmbackup/files/vmstack-backup"
_loader = importlib.machinery.SourceFileLoader("vmstack_backup", str(HELPER_PATH))
_spec = importlib.util.spec_from_loader("vmstack_backup", _loader)
helper = importlib.util.module_from_spec(_spec)
_loader.exec_module(helper)

PROMTOOL = shutil.which("promtool")


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def make_backup(path: Path, complete: bool = True) -> Path:
    (path / "data").mkdir(parents=True)
    (path / "data" / "part").write_bytes(b"x" * 100)
    if complete:
        (path / helper.COMPLETE_MARKER).write_text("1\n")
    return path


def test_a_dated_run_writes_into_todays_folder():
    today = day("2026-03-04")
    assert helper.run_destination("fs:///b/h/daily/", True, today) == "fs:///b/h/daily/2026-03-04"
    assert helper.run_destination("fs:///b/h/latest", False, today) == "fs:///b/h/latest"


def test_origin_is_used_only_once_it_is_a_complete_backup(tmp_path):
    command = ["/usr/local/bin/vmbackup-prod", "-storageDataPath=/d"]
    origin = f"fs://{tmp_path}/latest"
    assert helper.vmbackup_command(command, "fs:///x", origin) == command + ["-dst=fs:///x"]
    make_backup(tmp_path / "latest", complete=False)
    assert "-origin=" not in " ".join(helper.vmbackup_command(command, "fs:///x", origin))
    (tmp_path / "latest" / helper.COMPLETE_MARKER).write_text("1\n")
    assert helper.vmbackup_command(command, "fs:///x", origin)[-1] == f"-origin={origin}"


def test_retention_keeps_the_newest_n():
    dates = [day("2026-01-01") + datetime.timedelta(days=n) for n in range(10)]
    assert helper.backups_to_keep(dates, 3, 0, 0) == set(dates[-3:])


def test_retention_keeps_the_newest_of_each_recent_week_and_month():
    # Sundays end ISO weeks: 2026-01-04, 2026-01-11, 2026-01-18, 2026-01-25.
    dates = [day(text) for text in ("2025-11-20", "2025-12-30", "2026-01-03", "2026-01-04", "2026-01-10",
                                    "2026-01-17", "2026-01-24", "2026-01-25")]
    kept = helper.backups_to_keep(dates, 1, 2, 3)
    assert kept == {day("2026-01-25"),                      # newest
                    day("2026-01-17"),                      # newest of the week before (2026-01-12 .. 18)
                    day("2025-12-30"), day("2025-11-20")}   # newest of December and November
    # The newest backup is also the newest of its week and month: nothing more for those.
    assert helper.backups_to_keep(dates, 1, 1, 1) == {day("2026-01-25")}


def test_prune_removes_only_dated_backups_the_retention_drops(tmp_path):
    for name in ("2026-01-01", "2026-01-02", "2026-01-03"):
        make_backup(tmp_path / name)
    (tmp_path / "notes").mkdir()
    (tmp_path / "2026-01-04.tmp").write_text("")
    removed = helper.prune(tmp_path, 2, 0, 0)
    assert removed == [tmp_path / "2026-01-01"]
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["2026-01-02", "2026-01-03", "2026-01-04.tmp", "notes"]


def test_prune_refuses_a_remote_destination(capsys):
    assert helper.main(["prune", "--destination", "s3://bucket/h/daily", "--keep-last", "2"]) == 2
    assert "fs:// only" in capsys.readouterr().err


def run_metrics(tmp_path: Path, monkeypatch, result: str, dated: bool = False) -> dict[str, str]:
    monkeypatch.setenv("SERVICE_RESULT", result)
    textfile_dir = tmp_path / "textfile"
    textfile_dir.mkdir(exist_ok=True)
    arguments = ["metrics", "--schedule", "daily", "--destination", f"fs://{tmp_path}/daily",
                 "--max-age", "93600", "--textfile-dir", str(textfile_dir)] + (["--dated"] if dated else [])
    assert helper.main(arguments) == 0
    return helper.previous_values(textfile_dir / "vmbackup-daily.prom")


def test_a_success_records_its_time_and_the_size_of_the_newest_dated_backup(tmp_path, monkeypatch):
    make_backup(tmp_path / "daily" / "2026-01-01")
    newest = make_backup(tmp_path / "daily" / "2026-01-02")
    (newest / "data" / "more").write_bytes(b"y" * 50)
    values = run_metrics(tmp_path, monkeypatch, "success", dated=True)
    assert values["vmstack_backup_last_run_failed"] == "0"
    assert values["vmstack_backup_last_success_size_bytes"] == str(100 + 50 + 2)
    assert values["vmstack_backup_max_age_seconds"] == "93600"
    assert values["vmstack_backup_last_success_timestamp_seconds"] == values["vmstack_backup_last_run_timestamp_seconds"]


def test_a_failure_keeps_the_last_success(tmp_path, monkeypatch):
    make_backup(tmp_path / "daily" / "2026-01-01")
    good = run_metrics(tmp_path, monkeypatch, "success", dated=True)
    (tmp_path / "textfile" / "vmbackup-daily.prom").write_text(
        (tmp_path / "textfile" / "vmbackup-daily.prom").read_text().replace(
            good["vmstack_backup_last_success_timestamp_seconds"], "1000"))
    failed = run_metrics(tmp_path, monkeypatch, "exit-code", dated=True)
    assert failed["vmstack_backup_last_run_failed"] == "1"
    assert failed["vmstack_backup_last_success_timestamp_seconds"] == "1000"
    assert failed["vmstack_backup_last_success_size_bytes"] == good["vmstack_backup_last_success_size_bytes"]


def test_a_first_run_that_fails_has_no_success_time(tmp_path, monkeypatch):
    values = run_metrics(tmp_path, monkeypatch, "exit-code")
    assert values["vmstack_backup_last_run_failed"] == "1"
    assert "vmstack_backup_last_success_timestamp_seconds" not in values


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (apt-get install prometheus)")
def test_the_textfile_is_valid_exposition_format(tmp_path, monkeypatch):
    make_backup(tmp_path / "daily")
    run_metrics(tmp_path, monkeypatch, "success")
    text = (tmp_path / "textfile" / "vmbackup-daily.prom").read_text()
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
