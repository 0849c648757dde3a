# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the checks before any change and for masking secrets in messages.

The logic lives in plugin_utils (it runs on the controller only), imported
when a filter is called (plugin_utils/filter_errors.py says why).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ansible.utils.display import Display

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.filter_errors import (
    failing_as_filter_error,
    imported_filter,
    plugin_module,
)

display = Display()


def service_findings(host: str, component: str, settings: Mapping[str, Any], service: Mapping[str, Any],
                     *args: Any) -> list[str]:
    """preflight.service_findings, showing as warnings what it could not check (a release without flag data)."""
    preflight = plugin_module("plugin_utils.preflight")
    for note in preflight.service_notes(host, component, service):
        display.warning(note)
    return preflight.service_findings(host, component, settings, service, *args)


class FilterModule:
    """vmstack.monitoring preflight and masking filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "service_findings": failing_as_filter_error(service_findings),
            "host_overlap_findings": imported_filter("plugin_utils.preflight", "host_overlap_findings"),
            "existing_directory_findings": imported_filter("plugin_utils.preflight", "existing_directory_findings"),
            "failed_messages": imported_filter("plugin_utils.preflight", "failed_messages"),
            "release_has": imported_filter("plugin_utils.preflight", "release_has"),
            "mask_secrets": imported_filter("plugin_utils.secrets", "mask_secrets"),
            "secret_values": imported_filter("plugin_utils.secrets", "secret_values"),
        }
