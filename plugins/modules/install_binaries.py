#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: install_binaries
short_description: Install a service's binaries, comparing them all in one round trip
version_added: "0.1.0"
author: vmstack maintainers (@vmstack)
description:
  - Compares each installed binary with the release's by its SHA-256 checksum, and its owner, group and mode, in one
    call for all the binaries of a service. Where they differ only in owner, group or mode, those are set.
  - The action plugin of the same name sends, from the controller, only the binaries that differ or are missing,
    into Ansible's temporary directory on the host, and calls the module again to install them; a run where nothing
    changed costs one round trip, however many binaries the service has.
  - A binary is installed by a rename over the old one, so a running service never sees half a file, and the old
    one is kept as a backup that a failed start rolls back to.
  - Binaries are the release's own files, so there is nothing to show in a diff.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: In check mode nothing is sent or installed; the binaries that would be are reported as changed.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  src_dir:
    description:
      - The unpacked release on the controller. The action plugin reads the binaries there and sends those that
        differ; the module on the host ignores it.
    type: path
  dest_dir:
    description: The directory on the host the binaries are installed in.
    type: path
    required: true
  binaries:
    description: The binaries of one service.
    type: list
    elements: dict
    required: true
    suboptions:
      src:
        description: The binary's path in O(src_dir). Read by the action plugin; the module ignores it.
        type: str
      name:
        description: The binary's file name in O(dest_dir).
        type: str
        required: true
      checksum:
        description:
          - The SHA-256 of the release's binary. Set by the action plugin from O(binaries[].src); required by the
            module.
        type: str
      staged:
        description:
          - Where the action plugin put the release's binary on the host, to be installed. Set by the action plugin.
        type: path
  owner:
    description: Owner of the installed binaries.
    type: str
    default: root
  group:
    description: Group of the installed binaries.
    type: str
    default: root
  mode:
    description: Mode of the installed binaries, in octal.
    type: str
    default: "0755"
"""

EXAMPLES = r"""
- name: Install the binaries of vmagent
  vmstack.monitoring.install_binaries:
    src_dir: /var/cache/vmstack/VictoriaMetrics/v1.150.0/unpacked
    dest_dir: /usr/local/bin
    binaries:
      - src: vmagent-prod
        name: vmagent-prod
  register: binaries

- name: Would the binaries change? (compared only, nothing sent)
  vmstack.monitoring.install_binaries:
    src_dir: /var/cache/vmstack/alertmanager/v0.33.1/unpacked
    dest_dir: /usr/local/bin
    binaries:
      - src: alertmanager-0.33.1.linux-amd64/alertmanager
        name: alertmanager
      - src: alertmanager-0.33.1.linux-amd64/amtool
        name: amtool
  check_mode: true
  register: pending
"""

RETURN = r"""
changed:
  description: Whether any binary was (or, in check mode, would be) installed, or had its owner, group or mode set.
  returned: always
  type: bool
results:
  description: One entry per binary, in the order of O(binaries).
  returned: always
  type: list
  elements: dict
  contains:
    dest:
      description: The installed binary.
      type: str
    changed:
      description: Whether this binary was (or would be) installed, or had its owner, group or mode set.
      type: bool
    backup_file:
      description: The previous binary, kept for a rollback; absent when nothing was replaced.
      type: str
      returned: when a binary was replaced
"""

import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vmstack.monitoring.plugins.module_utils.checksums import file_sha256

ARGUMENT_SPEC = dict(
    src_dir=dict(type="path"),
    dest_dir=dict(type="path", required=True),
    binaries=dict(type="list", elements="dict", required=True, options=dict(
        src=dict(type="str"),
        name=dict(type="str", required=True),
        checksum=dict(type="str"),
        staged=dict(type="path"),
    )),
    owner=dict(type="str", default="root"),
    group=dict(type="str", default="root"),
    mode=dict(type="str", default="0755"),
)


def installed_checksum(path: str) -> str | None:
    """The checksum of the regular file at ``path``; None when there is none."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
    except FileNotFoundError:
        return None
    return file_sha256(path)


def attributes_differ(path: str, uid: int, gid: int, mode: int) -> bool:
    info = os.lstat(path)
    return (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) != (uid, gid, mode)


def owner_ids(module: AnsibleModule) -> tuple[int, int]:
    """The owner's and group's ids; in check mode on a fresh host they may not exist yet (-1: they would differ)."""
    try:
        return pwd.getpwnam(module.params["owner"]).pw_uid, grp.getgrnam(module.params["group"]).gr_gid
    except KeyError:
        if module.check_mode:
            return -1, -1
        module.fail_json(msg=f"the owner {module.params['owner']} or group {module.params['group']} does not exist")
        raise  # unreachable: fail_json exits


def install(module: AnsibleModule, binary: dict, uid: int, gid: int, mode: int) -> dict:
    dest, staged = os.path.join(module.params["dest_dir"], binary["name"]), binary["staged"]
    if file_sha256(staged) != binary["checksum"]:
        module.fail_json(msg=f"the copy of {dest} sent to the host does not match the release (checksum differs)")
    backup = module.backup_local(dest) if os.path.lexists(dest) else ""
    module.atomic_move(staged, dest)
    # atomic_move gives the new file the old one's owner and mode.
    os.chown(dest, uid, gid)
    os.chmod(dest, mode)
    return {"dest": dest, "changed": True, **({"backup_file": backup} if backup else {})}


def one_binary(module: AnsibleModule, binary: dict, uid: int, gid: int, mode: int) -> dict:
    dest = os.path.join(module.params["dest_dir"], binary["name"])
    if installed_checksum(dest) == binary["checksum"]:
        if not attributes_differ(dest, uid, gid, mode):
            return {"dest": dest, "changed": False}
        if not module.check_mode:
            os.chown(dest, uid, gid)
            os.chmod(dest, mode)
        return {"dest": dest, "changed": True}
    if module.check_mode or not binary["staged"]:
        # The action plugin sends what is missing and calls again with `staged`.
        return {"dest": dest, "changed": True, "needs_content": True}
    return install(module, binary, uid, gid, mode)


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        mode = int(module.params["mode"], 8)
    except ValueError:
        module.fail_json(msg=f"mode is {module.params['mode']!r}; write an octal mode such as 0755")
    if not all(binary["checksum"] for binary in module.params["binaries"]):
        module.fail_json(msg="binaries[].checksum is missing: the action plugin install_binaries sets it from src")
    uid, gid = owner_ids(module)
    results = [one_binary(module, binary, uid, gid, mode) for binary in module.params["binaries"]]
    module.exit_json(changed=any(result["changed"] for result in results), results=results)


if __name__ == "__main__":
    main()
