# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""What the shared service step decides about a systemd unit, without systemd.

The module ``service_apply`` feeds these functions what ``systemctl show``
says and a probe of the health URL; keeping the decisions here lets them be
tested without a host.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

# The properties the decisions read, for ``systemctl show --property``.
SHOW_PROPERTIES = ("LoadState", "ActiveState", "SubState", "Result", "NRestarts", "UnitFileState", "MainPID")

Unit = Mapping[str, str]


@dataclass(frozen=True)
class Plan:
    """What the step does to the unit, in this order."""

    reset_failed: bool
    enable: bool
    action: str  # "", "start", "restart" or "reload"

    @property
    def changes(self) -> bool:
        return self.reset_failed or self.enable or bool(self.action)


@dataclass(frozen=True)
class Outcome:
    healthy: bool
    reason: str
    waited: float


@dataclass
class Restored:
    """Files put back by a rollback: restored from a backup, or removed as new."""

    restored: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"restored {', '.join(self.restored)}"] if self.restored else []
        parts += [f"removed the new {', '.join(self.removed)}"] if self.removed else []
        return "; ".join(parts) or "nothing"


def parse_show(output: str) -> dict[str, str]:
    """``systemctl show`` prints one ``Key=value`` line per property."""
    unit: dict[str, str] = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            unit[key] = value
    return unit


def is_running(unit: Unit) -> bool:
    return unit.get("ActiveState") in ("active", "reloading")


def plan(unit: Unit, restart: bool, reload: bool, can_reload: bool) -> Plan:
    """Start a stopped unit; else restart for a new binary, unit or environment
    (or a new config of a service without a reload signal); else reload.

    A unit left ``failed`` (its start limit hit, say) refuses to start until
    it is reset. A unit in a restart loop is restarted: ``start`` would only
    wait for the loop's next attempt.
    """
    failed = unit.get("ActiveState") == "failed"
    enable = unit.get("UnitFileState") not in ("enabled", "enabled-runtime", "static")
    if unit.get("SubState") == "auto-restart":
        action = "restart"
    elif not is_running(unit):
        action = "start"
    elif restart or (reload and not can_reload):
        action = "restart"
    elif reload:
        action = "reload"
    else:
        action = ""
    return Plan(reset_failed=failed, enable=enable, action=action)


def unit_problem(unit: Unit, restarts_before: int) -> str:
    """Why the unit cannot become healthy any more, or "" while it still may."""
    active, sub = unit.get("ActiveState", ""), unit.get("SubState", "")
    if active == "failed":
        return f"the unit failed (result: {unit.get('Result') or 'unknown'})"
    if sub == "auto-restart":
        return "its process exited and systemd is restarting it (a restart loop)"
    restarts = int(unit.get("NRestarts") or 0)
    if restarts > restarts_before:
        return f"systemd restarted it {restarts - restarts_before} time(s) (a restart loop)"
    if active in ("inactive", "deactivating"):
        return f"the unit stopped ({active}, result: {unit.get('Result') or 'unknown'})"
    return ""


def wait_healthy(
    status: Callable[[], Unit],
    probe: Callable[[float], bool],
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 0.5,
    probe_timeout: float = 2.0,
) -> Outcome:
    """Poll the unit and its health URL together until the URL answers, the
    unit fails or loops, or ``timeout`` seconds pass. No probe may run past
    the deadline, so the wait ends within about ``timeout`` seconds."""
    start = clock()
    deadline = start + timeout
    restarts_before = int(status().get("NRestarts") or 0)
    while True:
        problem = unit_problem(status(), restarts_before)
        if problem:
            return Outcome(False, problem, clock() - start)
        remaining = deadline - clock()
        if remaining > 0 and probe(max(0.1, min(probe_timeout, remaining))):
            return Outcome(True, "", clock() - start)
        remaining = deadline - clock()
        if remaining <= 0:
            return Outcome(False, f"its health URL did not answer 200 within {timeout:g} s", clock() - start)
        sleep(min(interval, remaining))


def restore(files: list[Mapping[str, str]]) -> Restored:
    """Put each changed file back: its backup replaces it (taking the current
    file's owner and mode, which Ansible set), or it is removed when it is new."""
    done = Restored()
    for entry in files:
        path, backup = entry["path"], entry.get("backup") or ""
        if backup:
            current = os.stat(path) if os.path.exists(path) else None
            if current is not None:
                shutil.copymode(path, backup)
                os.chown(backup, current.st_uid, current.st_gid)
            os.replace(backup, path)
            done.restored.append(path)
        elif os.path.lexists(path):
            os.unlink(path)
            done.removed.append(path)
    return done


def remove_backups(files: list[Mapping[str, str]]) -> None:
    """After a healthy start the previous versions are no longer needed."""
    for entry in files:
        backup = entry.get("backup") or ""
        if backup and os.path.lexists(backup):
            os.unlink(backup)
