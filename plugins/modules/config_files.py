#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: config_files
short_description: Install a set of config files in one directory, all checked before any replaces a live one
version_added: "0.1.0"
author: vmstack maintainers (@vmstack)
description:
  - Writes each file of O(files) into the directory O(path), removes those marked O(files[].state=absent), and with
    O(prune) removes everything else there.
  - Every new or changed file is first written to a staging directory next to O(path) and checked there with
    O(validate); when the command refuses any of them, none is installed and the task fails naming the live files.
  - With O(check), one command checks the whole set once it is in place (for example a config that reads the
    files); when it refuses, every file written or removed is put back as it was and the task fails.
  - Files are replaced by a rename, so a service never reads half a file.
extends_documentation_fragment:
  - vmstack.monitoring.pending_marker
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    details: In check mode the changes are reported (with a diff unless O(secret)), but no command runs.
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  path:
    description:
      - The directory of the files. It must exist, except in check mode (it would have been created first) and when
        every file is O(files[].state=absent) (a missing directory has nothing to remove).
    type: path
    required: true
  files:
    description: The files, each a name in O(path) and its content.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The file name (no directory part).
        type: str
        required: true
      content:
        description: The content of the file. Required unless O(files[].state=absent).
        type: str
      state:
        description:
          - V(present) writes the file; V(absent) removes it if it is there (and needs no O(files[].content)), so
            that one task writes a file or removes it once it is no longer wanted.
          - A removal counts as a change for O(check) and O(pending_marker), as a write does.
        type: str
        choices: [present, absent]
        default: present
      owner:
        description: The owner of this file, instead of the task's O(owner).
        type: str
      group:
        description: The group of this file, instead of the task's O(group).
        type: str
      mode:
        description: The mode of this file, instead of the task's O(mode).
        type: raw
  validate:
    description:
      - A command checking one new file, C(%s) standing for its path, run with O(path) as working directory.
      - Its output names the live file, not the staged copy.
    type: str
  check:
    description:
      - A command checking the whole set once it is installed, run only when something was written or removed.
      - When it fails, the directory is restored to what it was.
    type: str
  prune:
    description: Remove every other entry in O(path) (files, links, directories, hidden ones too).
    type: bool
    default: false
  secret:
    description: The files hold secrets; no diff of their content is returned.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Install the rule files, each checked by vmalert, and nothing else
  vmstack.monitoring.config_files:
    path: /etc/vmalert/rules
    files:
      - name: recording.yml
        content: "{{ lookup('ansible.builtin.file', 'recording.yml') }}"
    validate: /usr/local/bin/vmalert -dryRun -rule=%s
    prune: true
    owner: root
    group: vmalert
    mode: "0640"

- name: Write the relabel config, checked by vmagent, or remove it when there are no rules
  vmstack.monitoring.config_files:
    path: /etc/vmagent
    files:
      - name: relabel.yml
        state: "{{ 'present' if relabel_configs else 'absent' }}"
        content: "{{ (relabel_configs | to_nice_yaml) if relabel_configs else '' }}"
    validate: /usr/local/bin/vmagent -remoteWrite.relabelConfig=%s -dryRun -promscrape.config=/dev/null
    owner: root
    group: vmagent
    mode: "0640"
"""

RETURN = r"""
changed:
  description: Whether any file was written, removed, or had its attributes changed.
  returned: always
  type: bool
pending_noted:
  description: Whether O(pending_marker) was created by this task.
  returned: always
  type: bool
written:
  description: Names of the files written (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
removed:
  description: Names of the entries removed, by O(prune) or as O(files[].state=absent).
  returned: always
  type: list
  elements: str
refused:
  description: The files that O(validate) or O(check) refused, with the command's output naming the live paths.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The file name, or C(*) for the whole set refused by O(check).
      type: str
    rc:
      description: Exit code of the command.
      type: int
    output:
      description: What the command printed (stdout, then stderr), with the staged paths replaced by the live ones.
      type: str
"""

import os
import shlex
import shutil
import tempfile
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.vmstack.monitoring.plugins.module_utils.service import pending

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    files=dict(type="list", elements="dict", required=True, options=dict(
        name=dict(type="str", required=True),
        content=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        owner=dict(type="str"),
        group=dict(type="str"),
        mode=dict(type="raw"),
    ), required_if=[("state", "present", ["content"])]),
    validate=dict(type="str"),
    check=dict(type="str"),
    prune=dict(type="bool", default=False),
    secret=dict(type="bool", default=False, no_log=False),
    pending_marker=dict(type="path"),
)


def _read(path):
    if not os.path.isfile(path) or os.path.islink(path):
        return None
    with open(path, "rb") as handle:
        return handle.read()


def _run(module, command, cwd, staged, live):
    rc, stdout, stderr = module.run_command(shlex.split(command), cwd=cwd)
    output = "\n".join(part.strip() for part in (stdout, stderr) if part.strip())
    for staged_path, live_path in zip(staged, live):
        output = output.replace(staged_path, live_path)
    return rc, output


class Transaction:
    """The files staged next to the directory, and what to put back if the set check refuses them."""

    def __init__(self, module, path):
        self.module = module
        self.path = path
        self.staging = tempfile.mkdtemp(dir=os.path.dirname(path.rstrip("/")) or ".",
                                        prefix="." + os.path.basename(path.rstrip("/")) + ".")
        self.backups = []   # (live path, backup path or None for a new file)
        self.removed = []   # (live path, where it was moved)

    def stage(self, item, data):
        staged = os.path.join(self.staging, "new-" + item["name"])
        with open(staged, "wb") as handle:
            handle.write(data)
        self.module.set_fs_attributes_if_different(_file_args(self.module, staged, item), False)
        return staged

    def install(self, name, staged):
        live = os.path.join(self.path, name)
        backup = None
        if os.path.lexists(live):
            backup = os.path.join(self.staging, "old-" + name)
            os.link(live, backup, follow_symlinks=False)
        self.backups.append((live, backup))
        os.rename(staged, live)

    def remove(self, name):
        live = os.path.join(self.path, name)
        kept = os.path.join(self.staging, "pruned-" + name)
        os.rename(live, kept)
        self.removed.append((live, kept))

    def restore(self):
        for live, backup in reversed(self.backups):
            if backup:
                os.rename(backup, live)
            else:
                os.unlink(live)
        for live, kept in reversed(self.removed):
            os.rename(kept, live)

    def close(self):
        shutil.rmtree(self.staging, ignore_errors=True)


def _plan(module, path):
    """The files wanted (name: content), names whose content differs, names to remove, and the diffs."""
    params = module.params
    wanted = {item["name"]: to_bytes(item["content"], errors="surrogate_or_strict")
              for item in params["files"] if item["state"] == "present"}
    unwanted = {item["name"] for item in params["files"] if item["state"] == "absent"}
    exists = os.path.isdir(path)
    to_write, diffs = [], []
    for name, data in wanted.items():
        current = _read(os.path.join(path, name)) if exists else None
        if current != data:
            to_write.append(name)
            if not params["secret"]:
                diffs.append(dict(before_header=os.path.join(path, name), after_header=os.path.join(path, name),
                                  before=to_native(current or b"", errors="surrogate_or_replace"),
                                  after=to_native(data, errors="surrogate_or_replace")))
    to_remove = []
    if exists:
        to_remove = sorted(name for name in os.listdir(path)
                           if name in unwanted or (params["prune"] and name not in wanted))
        diffs.extend(dict(before_header=os.path.join(path, name), after_header=os.path.join(path, name),
                          before="(present)\n", after="(absent)\n") for name in to_remove)
    return wanted, to_write, to_remove, diffs


def _check_names(module):
    names = [item["name"] for item in module.params["files"]]
    bad = [name for name in names if not name or "/" in name or name in (".", "..")]
    if bad:
        module.fail_json(msg=f"not plain file names: {', '.join(map(repr, bad))}")
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        module.fail_json(msg=f"each file name may be given once: {', '.join(twice)}")


def _file_args(module, file_path, item):
    """The task's file attributes, with the file's own owner, group and mode over them."""
    file_args = module.load_file_common_arguments(module.params, path=file_path)
    file_args.update({key: item[key] for key in ("owner", "group", "mode") if item[key] is not None})
    return file_args


def _fix_attributes(module, path, wanted, items, changed):
    for name in wanted:
        changed = module.set_fs_attributes_if_different(_file_args(module, os.path.join(path, name), items[name]),
                                                        changed)
    return changed


def run_module(module):
    try:
        _apply(module)
    except OSError as exc:
        module.fail_json(msg=f"cannot write the files of {module.params['path']}: {to_native(exc)}",
                         exception=traceback.format_exc())


def _apply(module):
    params = module.params
    path = params["path"].rstrip("/") or "/"
    _check_names(module)
    wanted, to_write, to_remove, diffs = _plan(module, path)
    items = {item["name"]: item for item in params["files"]}
    result = dict(changed=False, written=to_write, removed=to_remove, refused=[], pending_noted=False)
    if diffs:
        result["diff"] = diffs

    if not os.path.isdir(path):
        if module.check_mode or not wanted:
            result["changed"] = bool(wanted)
            module.exit_json(**result)
        module.fail_json(msg=f"the directory {path} does not exist; create it first", **result)

    if module.check_mode:
        result["changed"] = bool(to_write or to_remove) or _fix_attributes(module, path, wanted, items, False)
        module.exit_json(**result)

    transaction = Transaction(module, path)
    try:
        staged = {name: transaction.stage(items[name], wanted[name]) for name in to_write}
        live = {name: os.path.join(path, name) for name in to_write}
        if params["validate"]:
            for name in to_write:
                command = params["validate"].replace("%s", shlex.quote(staged[name]))
                rc, output = _run(module, command, path, [staged[name]], [live[name]])
                if rc != 0:
                    result["refused"].append(dict(name=name, rc=rc, output=output))
        if result["refused"]:
            names = ", ".join(item["name"] for item in result["refused"])
            module.fail_json(msg=f"refused: {names}; nothing in {path} was changed", **result)

        for name in to_write:
            transaction.install(name, staged[name])
        for name in to_remove:
            transaction.remove(name)
        if params["check"] and (to_write or to_remove):
            rc, output = _run(module, params["check"], path, [], [])
            if rc != 0:
                transaction.restore()
                result["refused"].append(dict(name="*", rc=rc, output=output))
                module.fail_json(msg=f"{params['check']} refuses the new files of {path}, which were put back"
                                 " as they were", **result)
        result["changed"] = _fix_attributes(module, path, wanted, items, bool(to_write or to_remove))
    finally:
        transaction.close()
    if result["changed"] and params["pending_marker"]:
        pending.note(params["pending_marker"])
        result["pending_noted"] = True
    module.exit_json(**result)


def main():
    run_module(AnsibleModule(argument_spec=ARGUMENT_SPEC, add_file_common_args=True, supports_check_mode=True))


if __name__ == "__main__":
    main()
