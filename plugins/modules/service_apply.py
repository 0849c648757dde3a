#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: service_apply
short_description: Start, restart or reload a systemd service, wait for its health URL, roll back a failed start
version_added: "0.1.0"
author: vmstack maintainers (@vmstack)
description:
  - Brings a running service in line with what is on disk, in one step. A unit left C(failed) (its start limit hit,
    say) is reset first; the unit is enabled; a stopped unit is started; a new binary, unit or environment restarts
    it; a new configuration reloads it (or restarts it when O(can_reload=false)).
  - A reload or restart still pending from an earlier run, noted by the file O(pending_marker), is done as well;
    the marker is removed once the service is healthy.
  - After the start, restart or reload the unit state and O(health_url) are polled together. The wait ends as soon
    as the URL answers 200, the unit fails or enters a restart loop, or O(health_timeout) seconds pass.
  - When the service does not become healthy and O(rollback) lists the files this run changed, each is put back
    (from its backup, or removed when it is new), systemd reloads its units and the service is started again and
    waited for. The task fails either way, naming what was rolled back and why, with the last lines of the
    journal of the failed start.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode it reports what it would do and changes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  name:
    description: The unit name, without C(.service).
    type: str
    required: true
  restart:
    description: The binary, unit or environment file changed; a running service must restart.
    type: bool
    default: false
  reload:
    description: A configuration changed; a running service must reload it.
    type: bool
    default: false
  can_reload:
    description: Whether the unit has C(ExecReload); without it a new configuration restarts the service.
    type: bool
    default: true
  daemon_reload:
    description: Run C(systemctl daemon-reload) first (the unit file changed).
    type: bool
    default: false
  pending_marker:
    description: A file whose presence means an earlier run wrote a configuration it did not apply.
    type: path
  health_url:
    description: What must answer 200 after the start, restart or reload.
    type: str
    required: true
  health_timeout:
    description: Seconds to wait for O(health_url).
    type: int
    default: 60
  rollback:
    description:
      - The files this run changed, each with the path of its previous version (empty when the file is new).
      - Empty when there is nothing to roll back to, such as on a first install.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The changed file.
        type: path
        required: true
      backup:
        description: Its previous version, or empty when the file is new.
        type: path
  journal_lines:
    description: How many lines of the journal a failure shows.
    type: int
    default: 40
  unused_files:
    description:
      - Files the service no longer reads (an environment file its new unit does not name), removed once it runs
        healthy; only then, since a rolled-back unit would still read them.
    type: list
    elements: path
    default: []
"""

EXAMPLES = r"""
- name: Run vmagent
  vmstack.monitoring.service_apply:
    name: vmagent
    restart: "{{ unit_result is changed }}"
    reload: "{{ scrape_config_result is changed }}"
    daemon_reload: "{{ unit_result is changed }}"
    pending_marker: /var/lib/vmstack/pending/vmagent
    health_url: http://127.0.0.1:8429/health
    health_timeout: 60
    rollback:
      - path: /etc/systemd/system/vmagent.service
        backup: "{{ unit_result.backup_file | default('') }}"
"""

RETURN = r"""
action:
  description: What was done to the service, V(start), V(restart), V(reload), or empty.
  returned: always
  type: str
  sample: restart
reset_failed:
  description: Whether the unit was in the C(failed) state and was reset.
  returned: always
  type: bool
waited:
  description: Seconds spent waiting for the health URL.
  returned: when the service was started, restarted or reloaded
  type: float
removed:
  description: The O(unused_files) that were there and are removed (or, in check mode, would be).
  returned: always
  type: list
  elements: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

from ansible_collections.vmstack.monitoring.plugins.module_utils.service import pending
from ansible_collections.vmstack.monitoring.plugins.module_utils.service.state import (
    SHOW_PROPERTIES,
    Outcome,
    parse_show,
    plan,
    remove_backups,
    restore,
    wait_healthy,
)

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    restart=dict(type="bool", default=False),
    reload=dict(type="bool", default=False),
    can_reload=dict(type="bool", default=True),
    daemon_reload=dict(type="bool", default=False),
    pending_marker=dict(type="path"),
    health_url=dict(type="str", required=True),
    health_timeout=dict(type="int", default=60),
    rollback=dict(
        type="list", elements="dict", default=[],
        options=dict(path=dict(type="path", required=True), backup=dict(type="path")),
    ),
    journal_lines=dict(type="int", default=40),
    unused_files=dict(type="list", elements="path", default=[]),
)


class Systemd:
    """The few systemctl and journalctl calls the step needs, for one unit."""

    def __init__(self, module: AnsibleModule, name: str) -> None:
        self.module = module
        self.unit = f"{name}.service"

    def run(self, *args: str) -> None:
        self.module.run_command(["systemctl", *args], check_rc=True)

    def show(self) -> dict[str, str]:
        output = self.module.run_command(
            ["systemctl", "show", "--property", ",".join(SHOW_PROPERTIES), self.unit], check_rc=True
        )[1]
        return parse_show(output)

    def journal(self, lines: int, since: float) -> str:
        """The unit's journal from a Unix time on (the start of the failed
        attempt), else its last lines when it logged nothing since."""
        command = ["journalctl", "--unit", self.unit, "--lines", str(lines), "--no-pager", "--output", "cat"]
        rc, out, err = self.module.run_command(command + ["--since", f"@{int(since)}"])
        if rc == 0 and not out.strip():
            rc, out, err = self.module.run_command(command)
        return out.rstrip() if rc == 0 else f"(journal not readable: {err.strip()})"


def probe(url: str):
    def answered(timeout: float) -> bool:
        try:
            return open_url(url, timeout=timeout, use_proxy=False, follow_redirects="none").getcode() == 200
        except Exception:  # refused, reset, timed out, an HTTP error: not healthy yet
            return False

    return answered


def act(systemd: Systemd, action: str, params: dict) -> tuple[Outcome, str]:
    """Do the action, wait for health; on failure also return the journal since the action."""
    began = time.time()
    systemd.run(action, systemd.unit)
    outcome = wait_healthy(systemd.show, probe(params["health_url"]), params["health_timeout"])
    return outcome, "" if outcome.healthy else systemd.journal(params["journal_lines"], began)


def roll_back(module: AnsibleModule, systemd: Systemd, action: str, failure: Outcome, journal: str) -> None:
    """Put the previous files back, start the service on them, and fail the task either way."""
    params = module.params
    restored = restore(params["rollback"])
    systemd.run("daemon-reload")
    systemd.run("reset-failed", systemd.unit)
    again, journal_again = act(systemd, "restart", params)
    pid = systemd.show().get("MainPID", "?")
    if again.healthy:
        after = f"{systemd.unit} is running again on its previous files (PID {pid}) and answers {params['health_url']}."
    else:
        after = (f"{systemd.unit} did not come back on its previous files either: {again.reason}.\n"
                 f"Its journal since:\n{journal_again}")
    module.fail_json(
        msg=(f"{systemd.unit} did not become healthy after the {action} ({failure.reason}, after {failure.waited:.1f} s), "
             f"so it was rolled back: {restored.describe()}. {after}\n"
             f"Fix what the journal of the failed {action} says, then run the play again.\n"
             f"Journal of the failed {action}:\n{journal}"),
        changed=True, action=action, rolled_back=restored.restored + restored.removed, waited=failure.waited,
    )


def finish(module: AnsibleModule, result: dict) -> None:
    """Remove the unused files, the service being healthy on its new unit, and exit."""
    result["removed"] = [path for path in module.params["unused_files"] if os.path.lexists(path)]
    if result["removed"]:
        result["changed"] = True
        if not module.check_mode:
            for path in result["removed"]:
                os.unlink(path)
    module.exit_json(**result)


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    systemd = Systemd(module, params["name"])
    marker = params["pending_marker"]
    noted = pending.is_noted(marker)
    if params["daemon_reload"] and not module.check_mode:
        systemd.run("daemon-reload")
    todo = plan(systemd.show(), params["restart"], params["reload"] or noted, params["can_reload"])
    result = dict(changed=todo.changes, action=todo.action, reset_failed=todo.reset_failed, removed=[])
    if module.check_mode or not todo.changes:
        finish(module, result)
    if todo.reset_failed:
        systemd.run("reset-failed", systemd.unit)
    if todo.enable:
        systemd.run("enable", systemd.unit)
    if todo.action:
        outcome, journal = act(systemd, todo.action, params)
        result["waited"] = outcome.waited
        if not outcome.healthy:
            if params["rollback"]:
                roll_back(module, systemd, todo.action, outcome, journal)
            module.fail_json(
                msg=(f"{systemd.unit} did not become healthy after the {todo.action}: {outcome.reason} "
                     f"(after {outcome.waited:.1f} s of at most {params['health_timeout']} s); "
                     f"there was nothing to roll back to. Last lines of its journal:\n{journal}"),
                **result,
            )
    remove_backups(params["rollback"])
    if noted:
        pending.clear(marker)
    finish(module, result)


if __name__ == "__main__":
    main()
