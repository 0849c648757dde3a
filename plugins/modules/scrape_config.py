#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scrape_config
short_description: Write a VictoriaMetrics C(-promscrape.config) file only if it would load, or remove it
version_added: "0.1.0"
author: vmstack maintainers (@vmstack)
description:
  - Checks a scrape config as C(vmagent -promscrape.config.dryRun) of the given VictoriaMetrics version would (the
    same checks as the P(vmstack.monitoring.validate_scrape_config#filter) filter), then writes it to O(dest)
    atomically.
  - When O(binary) is given and exists on the host, the new config is first written to a temporary file next to
    O(dest) and checked with the real binary's dry run; a rejection fails the task with the binary's message.
  - A config with errors, or rejected by the binary, never replaces the live file.
  - Relative paths in the config (C(scrape_config_files), TLS files) are resolved against the directory of O(dest),
    as the binary does.
  - With O(state=absent) it removes O(dest) instead, so that one task both writes the config and removes it once
    it is no longer wanted.
requirements:
  - PyYAML on the managed host (C(python3-yaml)) for the checks; without it only the dry run of O(binary) runs,
    with a warning.
extends_documentation_fragment:
  - vmstack.monitoring.pending_marker
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    details: In check mode the config is validated and the diff shown, but O(binary) is not run.
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  dest:
    description: Path of the scrape config on the host, the file passed to C(-promscrape.config).
    type: path
    required: true
  content:
    description: The scrape config as YAML text. Required with O(state=present).
    type: str
  state:
    description:
      - V(present) writes O(content) to O(dest); V(absent) removes O(dest) if it is there (no check runs then, and
        the diff does not show the old content).
    type: str
    choices: [present, absent]
    default: present
  vm_version:
    description:
      - The VictoriaMetrics release that will read the file, such as C(1.79.5) or C(v1.150.0).
      - The checks know the releases up to 1.150.0; a newer one is checked as 1.150.0, with a warning saying so.
    type: str
    default: "1.150.0"
  strict:
    description:
      - Whether the binary runs with C(-promscrape.config.strictParse=true) (its default).
      - With V(false), unknown fields and duplicate keys are warnings, and the dry run gets
        C(-promscrape.config.strictParse=false).
    type: bool
    default: true
  binary:
    description:
      - Path of C(vmagent) or C(victoria-metrics) on the host, to run
        C(<binary> -promscrape.config=<tmp> -promscrape.config.dryRun -loggerLevel=ERROR) before replacing O(dest).
      - When the path does not exist the dry run is skipped with a warning, so the first run before the package is
        installed still works.
    type: path
  warnings:
    description: Report warnings (returned in RV(findings) and shown as task warnings).
    type: bool
    default: true
  disabled_warnings:
    description:
      - Ids of warnings to leave out. See the P(vmstack.monitoring.validate_scrape_config#filter) filter for the list,
        for example V(duplicate-target) or V(timeout-above-interval).
    type: list
    elements: str
    default: []
  fail_on_warnings:
    description: Fail on warnings too, leaving O(dest) untouched.
    type: bool
    default: false
  env:
    description:
      - Environment variables vmagent runs with, used to expand C(%{NAME}) placeholders in O(content).
      - The module's own environment is not used, as it is not vmagent's.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Install the vmagent scrape config
  vmstack.monitoring.scrape_config:
    dest: /etc/vmagent/promscrape.yml
    content: "{{ lookup('ansible.builtin.template', 'promscrape.yml.j2') }}"
    vm_version: "1.79.5"
    binary: /usr/bin/vmagent
    owner: root
    group: vmagent
    mode: "0640"
  notify: Reload vmagent

- name: Config for a binary that runs with -promscrape.config.strictParse=false, warnings fatal
  vmstack.monitoring.scrape_config:
    dest: /etc/victoria-metrics/scrape.yml
    content: "{{ scrape_config | to_nice_yaml }}"
    vm_version: "1.112.0"
    strict: false
    fail_on_warnings: true
    disabled_warnings:
      - duplicate-target

- name: Write the scrape config, or remove it when there is nothing to scrape
  vmstack.monitoring.scrape_config:
    dest: /etc/vmagent/promscrape.yml
    state: "{{ 'present' if scrape_config else 'absent' }}"
    content: "{{ (scrape_config | to_nice_yaml) if scrape_config else omit }}"
    binary: /usr/bin/vmagent
"""

RETURN = r"""
changed:
  description: Whether O(dest) was written, removed, or had its attributes changed.
  returned: always
  type: bool
pending_noted:
  description: Whether O(pending_marker) was created by this task.
  returned: always
  type: bool
dest:
  description: The path of the config.
  returned: always
  type: str
  sample: /etc/vmagent/promscrape.yml
findings:
  description: Every error and warning the check found (on failure too).
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: V(error) or V(warning).
      type: str
      sample: error
    job:
      description: The C(job_name) the finding belongs to, or null.
      type: str
      sample: node
    path:
      description: Where in the config, as a key path.
      type: str
      sample: scrape_configs[3].relabel_configs[0].action
    line:
      description: Line in the YAML text, or null.
      type: int
      sample: 42
    message:
      description: What is wrong and what to write instead; a warning ends with its id in brackets.
      type: str
  sample:
    - severity: error
      job: node
      path: scrape_configs[0].relabel_configs[0].action
      line: 12
      message: "unknown `action` 'Replace': v1.79.5 takes actions in lower case only ...; write `action: replace`"
dry_run:
  description: Output of the binary's dry run, when it ran.
  returned: when O(binary) ran
  type: dict
  contains:
    rc:
      description: Exit code of the binary.
      type: int
    stderr:
      description: What the binary logged.
      type: str
"""

import os
import tempfile
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.vmstack.monitoring.plugins.module_utils.service import pending
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import format_finding
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.goyaml import HAS_YAML
from ansible_collections.vmstack.monitoring.plugins.module_utils.promscrape.validator import (
    DEFAULT_VM_VERSION,
    dry_run_command,
    dry_run_problem,
    validate_scrape_config,
)

ARGUMENT_SPEC = dict(
    dest=dict(type="path", required=True),
    content=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    vm_version=dict(type="str", default=DEFAULT_VM_VERSION),
    strict=dict(type="bool", default=True),
    binary=dict(type="path"),
    warnings=dict(type="bool", default=True),
    disabled_warnings=dict(type="list", elements="str", default=[]),
    fail_on_warnings=dict(type="bool", default=False),
    env=dict(type="dict", default={}),
    pending_marker=dict(type="path"),
)


def _validate(module, dest):
    params = module.params
    try:
        return validate_scrape_config(
            params["content"],
            vm_version=params["vm_version"],
            strict=params["strict"],
            base_dir=os.path.dirname(dest),
            warnings=params["warnings"],
            disabled_warnings=frozenset(params["disabled_warnings"]),
            env={str(name): str(value) for name, value in params["env"].items()},
        )
    except ValueError as exc:
        module.fail_json(msg=to_native(exc), dest=dest, findings=[])


def _skip_validation(module):
    # Without PyYAML on the host only the binary's dry run checks the file; the
    # collection's roles have already run the same checks on the controller.
    module.warn(missing_required_lib("PyYAML (python3-yaml)") + " Only the binary's dry run checked the file;"
                " validate it on the controller with the vmstack.monitoring.validate_scrape_config filter.")
    return []


def _read_current(dest):
    if not os.path.exists(dest):
        return None
    with open(dest, "rb") as handle:
        return handle.read()


def _write_temp_next_to(module, dest, data):
    # Next to dest, so that relative paths in the config resolve as they will
    # for the live file, and so that the final rename stays on one filesystem.
    handle, tmp_path = tempfile.mkstemp(dir=os.path.dirname(dest), prefix="." + os.path.basename(dest) + ".",
                                        suffix=".tmp")
    with os.fdopen(handle, "wb") as tmp:
        tmp.write(data)
    module.add_cleanup_file(tmp_path)
    return tmp_path


def _run_binary(module, tmp_path, dest, result):
    binary = module.params["binary"]
    if not binary:
        return
    if not os.path.exists(binary):
        module.warn(f"{binary} does not exist on this host; skipped the binary's dry run of {dest}")
        return
    command = dry_run_command(binary, tmp_path, module.params["strict"])
    rc, stdout, stderr = module.run_command(command, cwd=os.path.dirname(dest))
    result["dry_run"] = dict(rc=rc, stderr=stderr)
    problem = dry_run_problem(rc, stdout + stderr)
    if problem:
        module.fail_json(msg=f"{binary} rejected the new {dest}, which was left unchanged: {problem}", **result)


def _note_pending(module, result):
    if result["changed"] and module.params["pending_marker"] and not module.check_mode:
        pending.note(module.params["pending_marker"])
        result["pending_noted"] = True


def _remove(module, dest, result):
    if os.path.lexists(dest):
        # Not the old content: it may hold secrets (a password) that the empty
        # config no longer names, so the task's output would not be hidden.
        result["diff"] = dict(before_header=dest, after_header=dest, before="(present)\n", after="(absent)\n")
        if not module.check_mode:
            os.unlink(dest)
        result["changed"] = True
    _note_pending(module, result)
    module.exit_json(**result)


def run_module(module):
    dest = module.params["dest"]
    result = dict(changed=False, dest=dest, findings=[], pending_noted=False)
    if module.params["state"] == "absent":
        _remove(module, dest, result)
    if not os.path.isdir(os.path.dirname(dest) or "."):
        if module.check_mode:
            # Check mode on a fresh host: the directory would have been created first.
            result.update(changed=True, diff=dict(before="", after=module.params["content"]))
            module.exit_json(**result)
        module.fail_json(msg=f"the directory of {dest} does not exist; create it first", **result)

    findings = _validate(module, dest) if HAS_YAML else _skip_validation(module)
    result["findings"] = [finding.as_dict() for finding in findings]
    blocking = [finding for finding in findings if finding.is_error or module.params["fail_on_warnings"]]
    if blocking:
        lines = [format_finding(finding, dest) for finding in blocking]
        module.fail_json(msg=f"{dest} was left unchanged: the new config has {len(blocking)} problem(s):\n"
                         + "\n".join(lines), **result)
    for finding in findings:
        module.warn(format_finding(finding, dest))

    new_data = to_bytes(module.params["content"], errors="surrogate_or_strict")
    current = _read_current(dest)
    if current != new_data:
        result["diff"] = dict(
            before_header=dest, after_header=dest,
            before=to_native(current or b"", errors="surrogate_or_replace"),
            after=module.params["content"],
        )
        if not module.check_mode:
            tmp_path = _write_temp_next_to(module, dest, new_data)
            _run_binary(module, tmp_path, dest, result)
            module.atomic_move(tmp_path, dest)
        result["changed"] = True

    if os.path.exists(dest):
        # (In check mode a new dest does not exist yet; it is "changed" anyway.)
        file_args = module.load_file_common_arguments(module.params, path=dest)
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    _note_pending(module, result)
    module.exit_json(**result)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, add_file_common_args=True, supports_check_mode=True,
                           required_if=[("state", "present", ["content"])])
    try:
        run_module(module)
    except OSError as exc:
        action = "remove" if module.params["state"] == "absent" else "write"
        module.fail_json(msg=f"cannot {action} {module.params['dest']}: {to_native(exc)}",
                         exception=traceback.format_exc())


if __name__ == "__main__":
    main()
