# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Action plugin: get a release archive ready on the controller (see the module's documentation)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.urls import open_url
from ansible.plugins.action import ActionBase

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.release_archive import (
    ArchiveError,
    Release,
    prepare,
)

RELEASE_KEYS = (
    "source", "project", "version", "archive", "checksums", "sha256",
    "upstream_url", "url", "mirror_url", "local_dir",
)


def fetch_url(url: str, destination: Path) -> None:
    """Download to a temporary file beside the destination, then rename it into place."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=destination.parent, prefix=".download-", delete=False) as partial:
        try:
            with open_url(url, timeout=60, follow_redirects="all") as response:
                shutil.copyfileobj(response, partial)
        except Exception as error:  # any network or HTTP error: one clear message
            Path(partial.name).unlink(missing_ok=True)
            raise ArchiveError(f"cannot download {url}: {error}") from None
    Path(partial.name).chmod(0o644)
    Path(partial.name).rename(destination)


class ActionModule(ActionBase):
    """Runs on the controller only; the host is never contacted."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        unknown = sorted(set(args) - set(RELEASE_KEYS) - {"cache_dir", "unpack"})
        if unknown:
            raise AnsibleActionFail(f"unknown options: {', '.join(unknown)}")
        release = Release(
            **{key: str(args.get(key) or "") for key in RELEASE_KEYS},
            unpack=boolean(args.get("unpack", True), strict=True),
        )
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
