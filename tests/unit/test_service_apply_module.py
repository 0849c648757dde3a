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


def run_module(args: dict, check_mode: bool = False) -> dict:
    args = dict({"name": "vmagent", "health_url": "http://127.0.0.1:8429/health"}, **args,
                _ansible_check_mode=check_mode)
    output = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(output), pytest.raises(SystemExit):
        service_apply.main()
    return json.loads(output.getvalue())


def test_nothing_to_do_changes_nothing(systemd, tmp_path: Path):
    systemd.states = [RUNNING]
    result = run_module({"pending_marker": str(tmp_path / "vmagent")})
    assert result["changed"] is False and systemd.calls == []


def test_a_pending_note_reloads_and_goes(systemd, tmp_path: Path):
    marker = tmp_path / "vmagent"
    marker.write_text("")
    systemd.states = [RUNNING]
    result = run_module({"pending_marker": str(marker)})
    assert result["changed"] is True and result["action"] == "reload"
    assert systemd.calls == [("reload", "vmagent.service")]
    assert not marker.exists()


def test_check_mode_reports_a_pending_note_and_keeps_it(systemd, tmp_path: Path):
    marker = tmp_path / "vmagent"
    marker.write_text("")
    systemd.states = [RUNNING]
    result = run_module({"pending_marker": str(marker), "daemon_reload": True}, check_mode=True)
    assert result["changed"] is True and result["action"] == "reload"
    assert systemd.calls == [] and marker.exists()


def test_a_failed_unit_is_reset_before_it_starts(systemd):
    systemd.states = [{**RUNNING, "ActiveState": "failed", "SubState": "failed", "MainPID": "0"}, RUNNING]
    result = run_module({})
    assert result["changed"] is True and result["reset_failed"] is True
    assert systemd.calls == [("reset-failed", "vmagent.service"), ("start", "vmagent.service")]


def test_a_failed_restart_is_rolled_back(systemd, tmp_path: Path, monkeypatch):
    unit, backup = tmp_path / "vmagent.service", tmp_path / "vmagent.service.1.old~"
    unit.write_text("new")
    backup.write_text("old")
    marker = tmp_path / "pending"
    marker.write_text("")
    # The new unit loops; after the rollback the old one stays up.
    systemd.states = [RUNNING, LOOPING, LOOPING, RUNNING]
    healthy = iter([False, True])
    monkeypatch.setattr(service_apply, "probe", lambda url: lambda timeout: next(healthy, True))
    result = run_module({"restart": True, "daemon_reload": True, "pending_marker": str(marker),
                         "rollback": [{"path": str(unit), "backup": str(backup)}]})
    assert result["failed"] is True and result["changed"] is True
    assert f"rolled back: restored {unit}" in result["msg"]
    assert "is running again on its previous files (PID 42)" in result["msg"]
    assert "flag provided but not defined" in result["msg"]
    assert unit.read_text() == "old" and not backup.exists()
    assert ("daemon-reload",) in systemd.calls and ("reset-failed", "vmagent.service") in systemd.calls
    # The configuration may still be unapplied: the note stays for the next run.
    assert marker.exists()


def test_a_failed_first_start_has_nothing_to_roll_back(systemd):
    systemd.states = [{**RUNNING, "ActiveState": "inactive", "SubState": "dead", "UnitFileState": "disabled"},
                      {**RUNNING, "ActiveState": "failed", "Result": "exit-code"}]
    result = run_module({"restart": True, "daemon_reload": True})
    assert result["failed"] is True
    assert "nothing to roll back to" in result["msg"] and "the unit failed (result: exit-code)" in result["msg"]
    assert systemd.calls == [("daemon-reload",), ("enable", "vmagent.service"), ("start", "vmagent.service")]


def test_an_unused_file_goes_once_the_service_is_healthy(systemd, tmp_path: Path):
    environment = tmp_path / "vmagent.env"
    environment.write_text("SECRET=1\n")
    systemd.states = [RUNNING]
    checked = run_module({"unused_files": [str(environment)]}, check_mode=True)
    assert checked["changed"] is True and checked["removed"] == [str(environment)] and environment.exists()
    result = run_module({"restart": True, "unused_files": [str(environment)]})
    assert result["changed"] is True and result["removed"] == [str(environment)] and not environment.exists()
    again = run_module({"unused_files": [str(environment)]})
    assert again["changed"] is False and again["removed"] == []


def test_an_unused_file_stays_when_the_start_is_rolled_back(systemd, tmp_path: Path, monkeypatch):
    environment = tmp_path / "vmagent.env"
    environment.write_text("SECRET=1\n")
    systemd.states = [RUNNING, LOOPING]
    monkeypatch.setattr(service_apply, "probe", lambda url: lambda timeout: False)
    result = run_module({"restart": True, "health_timeout": 1, "unused_files": [str(environment)],
                         "rollback": [{"path": str(tmp_path / "vmagent.service"), "backup": ""}]})
    assert result["failed"] is True and environment.exists()
