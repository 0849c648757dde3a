# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Filters the roles use to render addresses, units and archive checks.

The logic lives in plugin_utils and module_utils, imported when a filter is
called (plugin_utils/filter_errors.py says why).
"""

from __future__ import annotations

from typing import Any, Callable

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.filter_errors import imported_filter


class FilterModule:
    """vmstack.monitoring rendering filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "join_host_port": imported_filter("plugin_utils.addresses", "join_host_port"),
            "url_host_port": imported_filter("plugin_utils.addresses", "url_host_port"),
            "probe_address": imported_filter("plugin_utils.addresses", "probe_address"),
            "default_port": imported_filter("module_utils.ports", "default_port"),
            "port_conflicts": imported_filter("plugin_utils.topology", "port_findings"),
            "component_endpoints": imported_filter("plugin_utils.topology", "component_endpoints"),
            "component_urls": imported_filter("plugin_utils.topology", "component_urls"),
            "stack_scrape_config": imported_filter("plugin_utils.topology", "stack_scrape_config"),
            "host_component_urls": imported_filter("plugin_utils.topology", "host_component_urls"),
            "stack_query_urls": imported_filter("plugin_utils.topology", "stack_query_urls"),
            "stack_insert_urls": imported_filter("plugin_utils.topology", "stack_insert_urls"),
            "stack_remote_write_urls": imported_filter("plugin_utils.topology", "stack_remote_write_urls"),
            "cluster_findings": imported_filter("plugin_utils.topology", "cluster_findings"),
            "shard_findings": imported_filter("plugin_utils.topology", "shard_findings"),
            "systemd_exec_lines": imported_filter("plugin_utils.systemd_args", "exec_start_lines"),
            "systemd_environment_file": imported_filter("plugin_utils.systemd_args", "environment_file"),
            "envflag_variables": imported_filter("plugin_utils.systemd_args", "envflag_variables"),
            "sha256_for": imported_filter("plugin_utils.archives", "sha256_for"),
            "release_arch": imported_filter("plugin_utils.archives", "release_arch"),
        }
