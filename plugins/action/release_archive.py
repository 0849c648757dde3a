# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Action plugin: get a release archive ready on the controller (see the module's documentation)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.release_archive import (
    RELEASE_KEYS,
    ArchiveError,
    Release,
    fetch_url,
    prepare,
)


class ActionModule(ControllerAction):
    """Gets a release archive ready in the controller's cache."""

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        unknown = sorted(set(args) - set(RELEASE_KEYS) - {"cache_dir", "unpack"})
        if unknown:
            raise AnsibleActionFail(f"unknown options: {', '.join(unknown)}")
        release = Release.from_mapping(args, unpack=boolean(args.get("unpack", True), strict=True))
        try:
            prepared = prepare(release, str(args.get("cache_dir") or ""), fetch_url)
        except ArchiveError as error:
            raise AnsibleActionFail(str(error)) from None
        # The cache is the controller's; nothing on the host changed.
        result.update(
            changed=False,
            archive_path=prepared.archive_path,
            sha256=prepared.sha256,
            unpack_dir=prepared.unpack_dir,
            fetched=prepared.fetched,
        )
        return result
