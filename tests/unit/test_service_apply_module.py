# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The vmstack.monitoring.service_apply module's steps, with systemd replaced by a fake."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

pytest.importorskip("ansible")

from module_args import patch_module_args  # noqa: E402

from ansible_collections.vmstack.monitoring.plugins.modules import service_apply  # noqa: E402

RUNNING = {"ActiveState": "active", "SubState": "running", "NRestarts": "0", "UnitFileState": "enabled",
           "MainPID": "42"}
LOOPING = {**RUNNING, "ActiveState": "activating", "SubState": "auto-restart", "MainPID": "0"}


class FakeSystemd:
    """Answers `systemctl show` from a script of states and records every other call."""

    states: list[dict[str, str]] = []
    calls: list[tuple[str, ...]] = []

    def __init__(self, module, name: str) -> None:
        self.unit = f"{name}.service"

    def run(self, *args: str) -> None:
        FakeSystemd.calls.append(args)

    def show(self) -> dict[str, str]:
        return FakeSystemd.states.pop(0) if len(FakeSystemd.states) > 1 else FakeSystemd.states[0]

    def journal(self, lines: int, since: float) -> str:
        return "flag provided but not defined: -no.such.flag"


@pytest.fixture()
def systemd(monkeypatch):
    FakeSystemd.calls = []
    monkeypatch.setattr(service_apply, "Systemd", FakeSystemd)
    monkeypatch.setattr(service_apply, "probe", lambda url: lambda timeout: True)
    return FakeSystemd


OLD_UNIT = "[Service]\nExecStart=/usr/local/bin/vmagent\n"
NEW_UNIT = "[Service]\nExecStart=/usr/local/bin/vmagent -new.flag\n"


@pytest.fixture()
def unit(tmp_path: Path) -> Path:
    """The unit as an earlier run left it (root, 0644)."""
    path = tmp_path / "vmagent.service"
    path.write_text(OLD_UNIT)
    path.chmod(0o644)
    return path


def run_module(args: dict, unit: Path, check_mode: bool = False, diff: bool = False) -> dict:
    args = dict({"name": "vmagent", "health_url": "http://127.0.0.1:8429/health", "unit": OLD_UNIT,
                 "unit_path": str(unit)}, **args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    output = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(output), pytest.raises(SystemExit):
        service_apply.main()
    return json.loads(output.getvalue())


def test_nothing_to_do_changes_nothing(systemd, unit: Path, tmp_path: Path):
    systemd.states = [RUNNING]
    result = run_module({"pending_marker": str(tmp_path / "pending")}, unit)
    assert result["changed"] is False and result["written"] == [] and systemd.calls == []


def test_a_pending_note_reloads_and_goes(systemd, unit: Path, tmp_path: Path):
    marker = tmp_path / "pending"
    marker.write_text("")
    systemd.states = [RUNNING]
    result = run_module({"pending_marker": str(marker)}, unit)
    assert result["changed"] is True and result["action"] == "reload"
    assert systemd.calls == [("reload", "vmagent.service")]
    assert not marker.exists()


def test_check_mode_reports_a_new_unit_and_a_pending_note_and_keeps_both(systemd, unit: Path, tmp_path: Path):
    marker = tmp_path / "pending"
    marker.write_text("")
    systemd.states = [RUNNING]
    result = run_module({"pending_marker": str(marker), "unit": NEW_UNIT}, unit, check_mode=True, diff=True)
    assert result["changed"] is True and result["action"] == "restart" and result["written"] == [str(unit)]
    assert result["diff"]["before"] == OLD_UNIT and result["diff"]["after"] == NEW_UNIT
    assert systemd.calls == [] and marker.exists() and unit.read_text() == OLD_UNIT


def test_a_new_unit_is_written_then_systemd_reloads_and_the_service_restarts(systemd, unit: Path):
    systemd.states = [RUNNING]
    result = run_module({"unit": NEW_UNIT}, unit)
    assert result["changed"] is True and result["action"] == "restart"
    assert unit.read_text() == NEW_UNIT and oct(unit.stat().st_mode & 0o777) == "0o644"
    assert systemd.calls == [("daemon-reload",), ("restart", "vmagent.service")]


def test_a_unit_with_another_mode_is_put_right(systemd, unit: Path):
    unit.chmod(0o666)
    systemd.states = [RUNNING]
    result = run_module({}, unit)
    assert result["changed"] is True and oct(unit.stat().st_mode & 0o777) == "0o644"


def test_the_environment_file_is_private_and_restarts_the_service(systemd, unit: Path, tmp_path: Path):
    environment = tmp_path / "vmagent.env"
    systemd.states = [RUNNING]
    args = {"environment": 'TOKEN="s3cr3t"\n', "environment_path": str(environment), "environment_group": "root"}
    checked = run_module(args, unit, check_mode=True, diff=True)
    assert checked["changed"] is True and checked["written"] == [str(environment)] and not environment.exists()
    assert "diff" not in checked and "s3cr3t" not in json.dumps(checked)
    result = run_module(args, unit)
    assert result["action"] == "restart" and environment.read_text() == 'TOKEN="s3cr3t"\n'
    assert oct(environment.stat().st_mode & 0o777) == "0o640"
    assert run_module(args, unit)["changed"] is False


def test_an_environment_file_no_longer_named_goes_without_a_restart(systemd, unit: Path, tmp_path: Path):
    environment = tmp_path / "vmagent.env"
    environment.write_text("SECRET=1\n")
    systemd.states = [RUNNING]
    checked = run_module({"environment_path": str(environment)}, unit, check_mode=True)
    assert checked["changed"] is True and checked["written"] == [str(environment)] and environment.exists()
    result = run_module({"environment_path": str(environment)}, unit)
    assert result["changed"] is True and result["action"] == "" and not environment.exists()
    assert run_module({"environment_path": str(environment)}, unit)["changed"] is False


def test_a_failed_unit_is_reset_before_it_starts(systemd, unit: Path):
    systemd.states = [{**RUNNING, "ActiveState": "failed", "SubState": "failed", "MainPID": "0"}, RUNNING]
    result = run_module({}, unit)
    assert result["changed"] is True and result["reset_failed"] is True
    assert systemd.calls == [("reset-failed", "vmagent.service"), ("start", "vmagent.service")]


def test_a_failed_restart_is_rolled_back(systemd, unit: Path, tmp_path: Path, monkeypatch):
    binary, backup = tmp_path / "vmagent", tmp_path / "vmagent.1.old~"
    binary.write_text("new")
    backup.write_text("old")
    environment = tmp_path / "vmagent.env"
    environment.write_text("OLD=1\n")
    marker = tmp_path / "pending"
    # The new unit loops; after the rollback the old one stays up.
    systemd.states = [RUNNING, LOOPING, LOOPING, RUNNING]
    healthy = iter([False, True])
    monkeypatch.setattr(service_apply, "probe", lambda url: lambda timeout: next(healthy, True))
    result = run_module({"unit": NEW_UNIT, "restart": True, "reload": True, "pending_marker": str(marker),
                         "environment": "NEW=1\n", "environment_path": str(environment),
                         "rollback": [{"path": str(binary), "backup": str(backup)}]}, unit)
    assert result["failed"] is True and result["changed"] is True
    assert f"rolled back: restored {binary}, {unit}, {environment}" in result["msg"]
    assert "is running again on its previous files (PID 42)" in result["msg"]
    assert "flag provided but not defined" in result["msg"]
    assert binary.read_text() == "old" and not backup.exists()
    assert unit.read_text() == OLD_UNIT and environment.read_text() == "OLD=1\n"
    assert ("reset-failed", "vmagent.service") in systemd.calls
    assert systemd.calls.count(("daemon-reload",)) == 2
    # The configuration may still be unapplied: the note stays for the next run.
    assert marker.exists()


def test_a_failed_first_start_has_nothing_to_roll_back(systemd, tmp_path: Path):
    unit = tmp_path / "vmagent.service"
    systemd.states = [{**RUNNING, "ActiveState": "inactive", "SubState": "dead", "UnitFileState": "disabled"},
                      {**RUNNING, "ActiveState": "failed", "Result": "exit-code"}]
    result = run_module({"restart": True}, unit)
    assert result["failed"] is True
    assert "nothing to roll back to" in result["msg"] and "the unit failed (result: exit-code)" in result["msg"]
    assert systemd.calls == [("daemon-reload",), ("enable", "vmagent.service"), ("start", "vmagent.service")]
    assert unit.read_text() == OLD_UNIT


def test_without_restore_a_failed_start_keeps_the_new_files(systemd, unit: Path, monkeypatch):
    # A moved release tree link: the old unit would point at a tree the rollback cannot bring back.
    systemd.states = [RUNNING, {**RUNNING, "ActiveState": "failed", "Result": "exit-code"}]
    monkeypatch.setattr(service_apply, "probe", lambda url: lambda timeout: False)
    result = run_module({"unit": NEW_UNIT, "restore": False, "health_timeout": 1}, unit)
    assert result["failed"] is True and "nothing to roll back to" in result["msg"]
    assert unit.read_text() == NEW_UNIT
