# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the shared service and config-file steps (role common, service.yml and config_files.yml)."""

from __future__ import annotations

from typing import Any, Callable

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.filter_errors import imported_filter


class FilterModule:
    """vmstack.monitoring service filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "rollback_files": imported_filter("plugin_utils.rollback", "rollback_files"),
            "config_files_refusal": imported_filter("plugin_utils.config_files", "config_files_refusal"),
        }
