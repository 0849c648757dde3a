#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: path_stats
short_description: Look at several paths in one call, changing nothing
version_added: "0.1.0"
author: vmstack maintainers (@vmstack)
description:
  - For each of O(paths), whether it exists, whether it is a directory, and its owner and group. That is what a loop
    of C(ansible.builtin.stat) tells, in one round trip to the host instead of one per path.
  - A symbolic link is not followed, as C(ansible.builtin.stat) does by default.
  - The checks before any change use it to find directories a setting names that exist already with another owner.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: It only reads, so check mode changes nothing in what it does.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  paths:
    description: The absolute paths to look at.
    type: list
    elements: path
    required: true
"""

EXAMPLES = r"""
- name: Look for the directories of vmagent
  vmstack.monitoring.path_stats:
    paths:
      - /etc/vmagent
      - /var/lib/vmagent-queue
  register: vmagent_paths
"""

RETURN = r"""
results:
  description: One entry per path, in the order of O(paths), with the keys of C(ansible.builtin.stat) it fills.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The path looked at.
      type: str
      returned: always
    stat:
      description: What is there.
      type: dict
      returned: always
      contains:
        exists:
          description: Whether anything exists at the path.
          type: bool
          returned: always
        isdir:
          description: Whether it is a directory (not a link to one).
          type: bool
          returned: when it exists
        pw_name:
          description: The owner's user name, or its user ID when the host knows no name for it.
          type: str
          returned: when it exists
        gr_name:
          description: The group's name, or its group ID when the host knows no name for it.
          type: str
          returned: when it exists
  sample: [{"path": "/etc/vmagent", "stat": {"exists": true, "isdir": true, "pw_name": "root", "gr_name": "vmagent"}},
           {"path": "/var/lib/vmagent-queue", "stat": {"exists": false}}]
"""

import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def path_stat(path: str) -> dict[str, object]:
    try:
        found = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return {"exists": False}
    return {"exists": True, "isdir": stat.S_ISDIR(found.st_mode),
            "pw_name": user_name(found.st_uid), "gr_name": group_name(found.st_gid)}


def main() -> None:
    module = AnsibleModule(argument_spec=dict(paths=dict(type="list", elements="path", required=True)),
                           supports_check_mode=True)
    results = [{"path": path, "stat": path_stat(path)} for path in module.params["paths"]]
    module.exit_json(changed=False, results=results)


if __name__ == "__main__":
    main()
