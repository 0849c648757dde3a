# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the shared service and config-file steps (role common, service.yml and config_files.yml)."""

from __future__ import annotations

from typing import Any, Callable

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.config_files import config_files_refusal
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.filter_errors import failing_as_filter_error
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.rollback import rollback_files


class FilterModule:
    """vmstack.monitoring service filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "rollback_files": failing_as_filter_error(rollback_files),
            "config_files_refusal": config_files_refusal,
        }
