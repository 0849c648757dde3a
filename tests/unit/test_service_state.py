# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The decisions of the shared service step (module service_apply), without systemd."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ansible_collections.vmstack.monitoring.plugins.module_utils.service.state import (
    Plan,
    parse_show,
    plan,
    remove_backups,
    restore,
    unit_problem,
    wait_healthy,
)
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.rollback import rollback_files

RUNNING = {"LoadState": "loaded", "ActiveState": "active", "SubState": "running", "NRestarts": "0",
           "UnitFileState": "enabled", "Result": "success"}


def test_parse_show_reads_key_value_lines():
    assert parse_show("ActiveState=failed\nResult=start-limit-hit\nExecStart={ path=/x ; argv[]=/x -a=b }\n") == {
        "ActiveState": "failed", "Result": "start-limit-hit", "ExecStart": "{ path=/x ; argv[]=/x -a=b }"}


@pytest.mark.parametrize("unit, restart, reload, can_reload, expected", [
    (RUNNING, False, False, True, Plan(False, False, "")),
    (RUNNING, True, True, True, Plan(False, False, "restart")),
    (RUNNING, False, True, True, Plan(False, False, "reload")),
    (RUNNING, False, True, False, Plan(False, False, "restart")),
    ({**RUNNING, "UnitFileState": "disabled"}, False, False, True, Plan(False, True, "")),
    ({**RUNNING, "ActiveState": "inactive", "SubState": "dead"}, True, True, True, Plan(False, False, "start")),
    # The start limit was hit: reset, then start, whatever else changed.
    ({**RUNNING, "ActiveState": "failed", "SubState": "failed", "Result": "start-limit-hit"}, False, False, True,
     Plan(True, False, "start")),
    # A restart loop: restart now instead of waiting for the loop's next attempt.
    ({**RUNNING, "ActiveState": "activating", "SubState": "auto-restart"}, False, False, True,
     Plan(False, False, "restart")),
    # Check mode on a fresh host: no unit yet.
    ({"LoadState": "not-found", "ActiveState": "inactive", "UnitFileState": ""}, True, False, True,
     Plan(False, True, "start")),
])
def test_plan(unit, restart, reload, can_reload, expected):
    assert plan(unit, restart, reload, can_reload) == expected


def test_plan_changes_only_when_it_does_something():
    assert not Plan(False, False, "").changes
    assert Plan(True, False, "").changes and Plan(False, True, "").changes and Plan(False, False, "reload").changes


@pytest.mark.parametrize("unit, problem", [
    (RUNNING, ""),
    ({**RUNNING, "ActiveState": "activating", "SubState": "start"}, ""),
    ({**RUNNING, "ActiveState": "failed", "Result": "exit-code"}, "the unit failed (result: exit-code)"),
    ({**RUNNING, "ActiveState": "activating", "SubState": "auto-restart"}, "restart loop"),
    ({**RUNNING, "NRestarts": "2"}, "restarted it 2 time(s)"),
    ({**RUNNING, "ActiveState": "inactive", "SubState": "dead"}, "the unit stopped"),
])
def test_unit_problem(unit, problem):
    found = unit_problem(unit, restarts_before=0)
    assert (problem in found) if problem else found == ""


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_wait_ends_when_the_url_answers():
    clock = FakeClock()
    answers = iter([False, False, True])
    outcome = wait_healthy(lambda: RUNNING, lambda timeout: next(answers), 60, clock=clock, sleep=clock.sleep)
    assert outcome.healthy and outcome.waited == pytest.approx(1.0)


def test_wait_ends_as_soon_as_the_unit_fails():
    clock = FakeClock()
    states = iter([RUNNING, RUNNING, {**RUNNING, "ActiveState": "failed", "Result": "exit-code"}])
    outcome = wait_healthy(lambda: next(states), lambda timeout: False, 60, clock=clock, sleep=clock.sleep)
    assert not outcome.healthy and "failed" in outcome.reason and outcome.waited < 1


def test_wait_ends_at_a_restart_counted_after_it_began():
    clock = FakeClock()
    states = iter([{**RUNNING, "NRestarts": "3"}, {**RUNNING, "NRestarts": "3"}, {**RUNNING, "NRestarts": "4"}])
    outcome = wait_healthy(lambda: next(states), lambda timeout: False, 60, clock=clock, sleep=clock.sleep)
    assert not outcome.healthy and "restarted it 1 time(s)" in outcome.reason


def test_no_probe_runs_past_the_timeout():
    """A URL that never answers: every probe takes its whole timeout."""
    clock = FakeClock()
    timeouts: list[float] = []

    def hanging(timeout: float) -> bool:
        timeouts.append(timeout)
        clock.now += timeout
        return False

    outcome = wait_healthy(lambda: RUNNING, hanging, 5, clock=clock, sleep=clock.sleep)
    assert not outcome.healthy and "within 5 s" in outcome.reason
    assert outcome.waited <= 5.0
    assert max(timeouts) <= 2.0


def test_restore_puts_backups_back_with_the_current_mode_and_removes_new_files(tmp_path: Path):
    unit, backup, new = tmp_path / "x.service", tmp_path / "x.service.1.old~", tmp_path / "x.env"
    unit.write_text("new")
    unit.chmod(0o644)
    backup.write_text("old")
    backup.chmod(0o600)
    new.write_text("secret")
    done = restore([{"path": str(unit), "backup": str(backup)}, {"path": str(new), "backup": ""}])
    assert unit.read_text() == "old" and (unit.stat().st_mode & 0o777) == 0o644
    assert not backup.exists() and not new.exists()
    assert done.describe() == f"restored {unit}; removed the new {new}"


def test_remove_backups_keeps_the_files(tmp_path: Path):
    unit, backup = tmp_path / "x.service", tmp_path / "x.service.1.old~"
    unit.write_text("new")
    backup.write_text("old")
    remove_backups([{"path": str(unit), "backup": str(backup)}, {"path": str(unit), "backup": ""}])
    assert unit.exists() and not backup.exists()
    assert os.listdir(tmp_path) == ["x.service"]


def test_rollback_files_from_registered_results():
    binaries = {"changed": True, "results": [
        {"changed": True, "dest": "/usr/local/bin/a", "backup_file": "/usr/local/bin/a.1.old~"},
        {"changed": False, "dest": "/usr/local/bin/b"},
        {"changed": True, "dest": "/usr/local/bin/c"},
    ]}
    unit = {"changed": True, "dest": "/etc/systemd/system/a.service", "backup_file": "/etc/systemd/system/a.service.1~"}
    skipped = {"changed": False, "skipped": True}
    assert rollback_files([binaries, unit, skipped, None]) == [
        {"path": "/usr/local/bin/a", "backup": "/usr/local/bin/a.1.old~"},
        {"path": "/usr/local/bin/c", "backup": ""},
        {"path": "/etc/systemd/system/a.service", "backup": "/etc/systemd/system/a.service.1~"},
    ]
