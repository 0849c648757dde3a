# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the vmauth role and of vmauth's clients.

The logic lives in plugin_utils/vmauth.py, imported when a filter is called
(plugin_utils/filter_errors.py says why).
"""

from __future__ import annotations

from typing import Any, Callable

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.filter_errors import imported_filter


class FilterModule:
    """vmstack.monitoring vmauth filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "vmauth_config": imported_filter("plugin_utils.vmauth", "vmauth_config"),
            "vmauth_findings": imported_filter("plugin_utils.vmauth", "findings"),
            "vmauth_client_flags": imported_filter("plugin_utils.vmauth", "client_flags"),
            "vmauth_check_command": imported_filter("plugin_utils.vmauth", "check_command"),
        }
