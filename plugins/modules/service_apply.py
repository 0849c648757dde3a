#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: service_apply
short_description: Write a service's unit, then start, restart or reload it, wait for its health URL, roll back a failed start
version_added: "0.1.0"
author: vmstack maintainers (@vmstack)
description:
  - Brings a running service in line with what is on disk, in one step. It writes the unit file O(unit) and the
    environment file O(environment) when they differ (systemd then reloads its units). A unit left C(failed) (its
    start limit hit, say) is reset; the unit is enabled; a stopped unit is started; a new binary, unit or environment
    restarts it; a new configuration reloads it (or restarts it when O(can_reload=false)).
  - A reload or restart still pending from an earlier run, noted by the file O(pending_marker), is done as well;
    the marker is removed once the service is healthy.
  - After the start, restart or reload the unit state and O(health_url) are polled together. The wait ends as soon
    as the URL answers 200, the unit fails or enters a restart loop, or O(health_timeout) seconds pass.
  - When the service does not become healthy, the files this run changed are put back (the unit and environment
    file as they were; each of O(rollback) from its backup, or removed when it is new), systemd reloads its units
    and the service is started again and waited for. The task fails either way, naming what was rolled back and
    why, with the last lines of the journal of the failed start. Nothing is rolled back on a first install (there
    was no unit) or with O(restore=false).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode it reports what it would do and changes nothing.
  diff_mode:
    support: partial
    details: The diff shows the unit file; the environment file holds secrets and is never shown.
  platform:
    platforms: posix
options:
  name:
    description: The unit name, without C(.service).
    type: str
    required: true
  unit:
    description: The content of the unit file, written to O(unit_path) (owner root, mode 0644) when it differs.
    type: str
    required: true
  unit_path:
    description: Where the unit file goes; when not set, C(/etc/systemd/system/<name>.service).
    type: path
  environment:
    description:
      - The content of the environment file the unit names, written to O(environment_path) (owner root, group
        O(environment_group), mode 0640) when it differs. Never logged.
      - Empty when the unit names none; O(environment_path) is then removed if it is there.
    type: str
    default: ""
  environment_path:
    description: Where the environment file goes. Without it there is no environment file to manage.
    type: path
  environment_group:
    description: The group that may read the environment file (the service's).
    type: str
    default: root
  restart:
    description: A binary of the service changed; a running service must restart.
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
      - Other files this run changed (the binaries), each with the path of its previous version (empty when the file
        is new). The backups are removed once the service is healthy.
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
  restore:
    description:
      - Whether a failed start puts the previous files back. V(false) when the run moved the link of a release tree,
        whose previous tree a rollback of single files cannot bring back.
    type: bool
    default: true
  journal_lines:
    description: How many lines of the journal a failure shows.
    type: int
    default: 40
"""

EXAMPLES = r"""
- name: Run vmagent
  vmstack.monitoring.service_apply:
    name: vmagent
    unit: "{{ lookup('ansible.builtin.template', 'vmagent.service.j2') }}"
    environment: "{{ {'VMAGENT_TOKEN': vmagent_token} | vmstack.monitoring.systemd_environment_file }}"
    environment_path: /etc/vmagent/vmagent.env
    environment_group: vmagent
    restart: "{{ binary_result is changed }}"
    reload: "{{ scrape_config_result is changed }}"
    pending_marker: /var/lib/vmstack/pending/vmagent
    health_url: http://127.0.0.1:8429/health
    health_timeout: 60
    rollback:
      - path: /usr/local/bin/vmagent
        backup: "{{ binary_result.backup_file | default('') }}"
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
written:
  description: The files written or removed, of O(unit_path) and O(environment_path) (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

from ansible_collections.vmstack.monitoring.plugins.module_utils.service import files, pending
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
    unit=dict(type="str", required=True),
    unit_path=dict(type="path"),
    environment=dict(type="str", default="", no_log=True),
    environment_path=dict(type="path"),
    environment_group=dict(type="str", default="root"),
    restart=dict(type="bool", default=False),
    reload=dict(type="bool", default=False),
    can_reload=dict(type="bool", default=True),
    pending_marker=dict(type="path"),
    health_url=dict(type="str", required=True),
    health_timeout=dict(type="int", default=60),
    rollback=dict(
        type="list", elements="dict", default=[],
        options=dict(path=dict(type="path", required=True), backup=dict(type="path")),
    ),
    restore=dict(type="bool", default=True),
    journal_lines=dict(type="int", default=40),
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


def wanted_files(params: dict) -> tuple[files.Wanted, files.Wanted | None]:
    """The unit and, when the service has a place for one, the environment file."""
    unit = files.Wanted(params["unit_path"] or f"/etc/systemd/system/{params['name']}.service",
                        params["unit"].encode())
    if not params["environment_path"]:
        return unit, None
    content = params["environment"].encode() or None
    return unit, files.Wanted(params["environment_path"], content, group=params["environment_group"], mode=0o640)


def act(systemd: Systemd, action: str, params: dict) -> tuple[Outcome, str]:
    """Do the action, wait for health; on failure also return the journal since the action."""
    began = time.time()
    systemd.run(action, systemd.unit)
    outcome = wait_healthy(systemd.show, probe(params["health_url"]), params["health_timeout"])
    return outcome, "" if outcome.healthy else systemd.journal(params["journal_lines"], began)


def roll_back(module: AnsibleModule, systemd: Systemd, written: list[files.Previous],
              action: str, failure: Outcome, journal: str) -> None:
    """Put the previous files back, start the service on them, and fail the task either way."""
    params = module.params
    restored = restore(params["rollback"])
    for previous in written:
        files.put_back(previous)
        (restored.restored if previous.content is not None else restored.removed).append(previous.path)
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


def fail_unhealthy(module: AnsibleModule, systemd: Systemd, action: str, outcome: Outcome, journal: str,
                   result: dict) -> None:
    module.fail_json(
        msg=(f"{systemd.unit} did not become healthy after the {action}: {outcome.reason} "
             f"(after {outcome.waited:.1f} s of at most {module.params['health_timeout']} s); "
             f"there was nothing to roll back to. Last lines of its journal:\n{journal}"),
        **result,
    )


def unit_diff(unit: files.Wanted, previous: files.Previous) -> dict:
    return dict(before_header=unit.path, after_header=unit.path,
                before=(previous.content or b"").decode(errors="replace"), after=(unit.content or b"").decode())


def write(module: AnsibleModule, systemd: Systemd, to_write: list[files.Wanted], unit: files.Wanted) -> None:
    """Note a pending reload first (a start that fails leaves it for the next
    run), then write the files, then let systemd read a new unit."""
    if module.params["reload"] and module.params["pending_marker"]:
        pending.note(module.params["pending_marker"])
    for wanted in to_write:
        files.apply(wanted)
    if unit in to_write:
        systemd.run("daemon-reload")


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    systemd = Systemd(module, params["name"])
    unit, environment = wanted_files(params)
    before = {wanted.path: files.read(wanted.path) for wanted in (unit, environment) if wanted}
    to_write = [wanted for wanted in (unit, environment) if wanted and files.differs(wanted, before[wanted.path])]
    # An environment file the new unit no longer names goes without a restart.
    restart = params["restart"] or any(wanted.content is not None for wanted in to_write)
    result = dict(written=[wanted.path for wanted in to_write])
    if module._diff and unit in to_write:
        result["diff"] = unit_diff(unit, before[unit.path])
    if not module.check_mode:
        write(module, systemd, to_write, unit)
    noted = pending.is_noted(params["pending_marker"])
    todo = plan(systemd.show(), restart, params["reload"] or noted, params["can_reload"])
    result.update(changed=todo.changes or bool(to_write), action=todo.action, reset_failed=todo.reset_failed)
    if module.check_mode or not todo.changes:
        module.exit_json(**result)
    if todo.reset_failed:
        systemd.run("reset-failed", systemd.unit)
    if todo.enable:
        systemd.run("enable", systemd.unit)
    if todo.action:
        outcome, journal = act(systemd, todo.action, params)
        result["waited"] = outcome.waited
        if not outcome.healthy:
            # A first install (no unit before) has nothing to go back to.
            if params["restore"] and before[unit.path].content is not None:
                roll_back(module, systemd, [before[wanted.path] for wanted in to_write], todo.action, outcome, journal)
            fail_unhealthy(module, systemd, todo.action, outcome, journal, result)
    remove_backups(params["rollback"])
    if noted:
        pending.clear(params["pending_marker"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
