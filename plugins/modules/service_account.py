#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: service_account
short_description: Create a service's system group, system user and directories in one step
version_added: "0.1.0"
author: vmstack maintainers (@vmstack)
description:
  - Does in one module call what C(ansible.builtin.group), C(ansible.builtin.user) and a loop of
    C(ansible.builtin.file) with C(state=directory) do for a service.
  - The system group O(group) is created when missing; an existing group is left as it is.
  - The system user O(user) is created when missing, with O(group) as its primary group, the shell
    C(/usr/sbin/nologin), the home C(/nonexistent) and no home directory. An existing user gets that primary group,
    shell and home when it has others (C(usermod)); nothing else of it changes.
  - Each of O(directories) is created when missing and gets its owner, group and mode when they differ. Missing
    parents are created owned by root, mode C(0755); an existing parent is never changed.
  - Every path is looked at before anything changes. A path that exists and is not a directory fails the task,
    naming each such path, with nothing changed.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode it reports what it would create and change and changes nothing. On a host where the user or
        group does not exist yet, directories owned by it are reported as changes.
  diff_mode:
    support: full
    details: The owner, group, mode and state of each directory before and after.
  platform:
    platforms: posix
options:
  group:
    description: The service's system group.
    type: str
    required: true
  user:
    description: The service's system user.
    type: str
    required: true
  directories:
    description:
      - The service's directories, in order. The defaults make a config directory the service reads and only root
        writes; data directories name the service's user and a stricter mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The absolute path of the directory.
        type: path
        required: true
      owner:
        description: The user that owns it.
        type: str
        default: root
      group:
        description: The group that owns it; the default is O(group).
        type: str
      mode:
        description: Its mode, in octal.
        type: str
        default: "0750"
notes:
  - Needs C(getent), C(groupadd), C(useradd) and C(usermod) on the host, and root.
"""

EXAMPLES = r"""
- name: Create the account and directories of vmagent
  vmstack.monitoring.service_account:
    group: vmagent
    user: vmagent
    directories:
      - path: /etc/vmagent
      - path: /var/lib/vmagent-queue
        owner: vmagent
        group: vmagent
        mode: "0700"
"""

RETURN = r"""
created:
  description: What was created (or, in check mode, would be).
  returned: always
  type: dict
  contains:
    group:
      description: Whether the group was created.
      type: bool
      returned: always
    user:
      description: Whether the user was created.
      type: bool
      returned: always
    directories:
      description: The directories created, missing parents included, outermost first.
      type: list
      elements: str
      returned: always
  sample: {"group": true, "user": true, "directories": ["/etc/vmagent", "/var/lib/vmagent-queue"]}
user_changes:
  description: The settings of an existing user that were changed (V(group), V(shell), V(home)).
  returned: always
  type: list
  elements: str
  sample: [shell]
changed_paths:
  description: Every directory created or given another owner, group or mode.
  returned: always
  type: list
  elements: str
  sample: ["/etc/vmagent"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vmstack.monitoring.plugins.module_utils.service.account import (
    AccountError,
    Accounts,
    Plan,
    apply_accounts,
    apply_directory,
    plan,
)

ARGUMENT_SPEC = dict(
    group=dict(type="str", required=True),
    user=dict(type="str", required=True),
    directories=dict(
        type="list", elements="dict", default=[],
        options=dict(
            path=dict(type="path", required=True),
            owner=dict(type="str", default="root"),
            group=dict(type="str"),
            mode=dict(type="str", default="0750"),
        ),
    ),
)


def accounts_of(module: AnsibleModule) -> Accounts:
    return Accounts(module.run_command)


def report(todo: Plan, diff: bool) -> dict:
    result = dict(
        changed=todo.changed,
        created=dict(group=todo.create_group, user=todo.create_user,
                     directories=[d.path for d in todo.directories if d.current is None]),
        user_changes=sorted(todo.user_changes),
        changed_paths=[d.path for d in todo.directories],
    )
    if diff:
        result["diff"] = [d.diff() for d in todo.directories]
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    accounts = accounts_of(module)
    try:
        directories = [dict(directory, group=directory["group"] or params["group"]) for directory in params["directories"]]
        todo = plan(accounts, params["group"], params["user"], directories)
    except AccountError as error:
        module.fail_json(msg=str(error), changed=False)
    result = report(todo, module._diff)
    if module.check_mode or not todo.changed:
        module.exit_json(**result)
    try:
        apply_accounts(accounts, params["group"], params["user"], todo)
        for directory in todo.directories:
            apply_directory(accounts, directory)
    except (AccountError, OSError) as error:
        module.fail_json(msg=f"{error}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
