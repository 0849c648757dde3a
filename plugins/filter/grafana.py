# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the grafana role: dashboards, datasources and grafana_ini checks.

Each is documented in its own <name>.yml; the logic lives in plugin_utils/grafana/,
imported when a filter is called (plugin_utils/filter_errors.py says why).
"""

from __future__ import annotations

from typing import Any, Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.filter_errors import imported_filter, plugin_module


def grafana_dashboards_prepare(
    entries: list[Mapping[str, Any]],
    datasource: str | None = None,
    datasource_types: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Bind, normalise and render dashboards: {file name: JSON text}."""
    if not isinstance(entries, list):
        raise AnsibleFilterError(f"grafana_dashboards_prepare expects a list of dashboards, got {type(entries).__name__}")
    try:
        return plugin_module("plugin_utils.grafana.dashboards").prepare_dashboards(entries, datasource, datasource_types)
    except ValueError as error:
        raise AnsibleFilterError(f"grafana dashboards: {error}") from error


def grafana_datasources_file(
    datasources: list[Mapping[str, Any]],
    default_uid: str = "",
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The datasource provisioning document, with deleteDatasources from the previous one."""
    if not isinstance(datasources, list):
        raise AnsibleFilterError(f"grafana_datasources_file expects a list of datasources, got {type(datasources).__name__}")
    try:
        return plugin_module("plugin_utils.grafana.datasources").provisioning_file(datasources, default_uid, previous)
    except ValueError as error:
        raise AnsibleFilterError(f"grafana datasources: {error}") from error


class FilterModule:
    """Ansible entry point."""

    def filters(self) -> dict[str, object]:
        return {
            "grafana_dashboards_prepare": grafana_dashboards_prepare,
            "grafana_datasources_file": grafana_datasources_file,
            "grafana_ini_conflicts": imported_filter("plugin_utils.grafana.settings", "ini_conflicts"),
            "grafana_ini_bad_values": imported_filter("plugin_utils.grafana.settings", "ini_bad_values"),
            "grafana_dashboard_specs": imported_filter("plugin_utils.grafana.settings", "dashboard_specs"),
            "grafana_dashboard_entries": imported_filter("plugin_utils.grafana.settings", "dashboard_entries"),
        }
