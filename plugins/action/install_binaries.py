# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Action plugin: install a service's binaries (see the module's documentation).

ansible.builtin.copy costs two round trips per unchanged binary (a stat, then
the file module for owner and mode); this compares every binary of a service
in one call and sends only the ones that differ.
"""

from __future__ import annotations

import os
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.vmstack.monitoring.plugins.module_utils.checksums import file_sha256

MODULE = "vmstack.monitoring.install_binaries"


class ActionModule(ActionBase):
    """Compares on the host, then sends and installs only what differs."""

    # Not declared: Ansible would make a temporary directory on the host before
    # every run (and remove it after), two more round trips where nothing is
    # sent. run() makes one only when it sends a binary.
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        super().run(tmp, task_vars)
        args = dict(self._task.args)
        if not args.get("binaries"):
            return {"changed": False, "results": []}
        sources = [os.path.join(str(args.get("src_dir") or ""), str(binary.get("src") or ""))
                   for binary in args["binaries"]]
        for source in sources:
            if not os.path.isfile(source):
                raise AnsibleActionFail(f"binaries: {source} is not a file on the controller")
        module_args = {**args, "binaries": [{"name": binary.get("name"), "checksum": file_sha256(source)}
                                            for binary, source in zip(args["binaries"], sources)]}
        try:
            result = self._execute_module(MODULE, module_args=module_args, task_vars=task_vars)
            missing = [index for index, item in enumerate(result.get("results") or []) if item.pop("needs_content", False)]
            if result.get("failed") or not missing or self._task.check_mode:
                return result
            # Ansible's temporary directory on the host: the module renames from there.
            staging = self._connection._shell.tmpdir or self._make_tmp_path()
            staged = {index: self._connection._shell.join_path(staging, f"binary-{index}") for index in missing}
            for index, path in staged.items():
                self._transfer_file(sources[index], path)
                module_args["binaries"][index]["staged"] = path
            self._fixup_perms2([staging, *staged.values()])
            installed = self._execute_module(MODULE, module_args=module_args, task_vars=task_vars)
            if installed.get("failed"):
                return installed
            # The first call's word stands for the binaries it found in place (it may have set their mode).
            results = [installed["results"][index] if index in staged else item for index, item in enumerate(result["results"])]
            return {**installed, "changed": True, "results": results}
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
