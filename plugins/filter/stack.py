# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Filters the roles use to render addresses, units and archive checks.

The logic lives in module_utils; these wrappers only turn its errors into
AnsibleFilterError so a play fails with the message.
"""

from __future__ import annotations

from typing import Any, Callable

from ansible_collections.vmstack.monitoring.plugins.module_utils import ports
from ansible_collections.vmstack.monitoring.plugins.plugin_utils import addresses, archives, systemd_args, topology
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.filter_errors import failing_as_filter_error


def port_conflicts(host: str, host_vars: dict[str, Any], group_names: list[str]) -> list[str]:
    """Messages for each port variable that is no port, and each port two components want on this host."""
    return topology.port_findings(host, host_vars, group_names)


class FilterModule:
    """vmstack.monitoring rendering filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "join_host_port": failing_as_filter_error(addresses.join_host_port),
            "url_host_port": failing_as_filter_error(addresses.url_host_port),
            "probe_address": failing_as_filter_error(addresses.probe_address),
            "default_port": failing_as_filter_error(ports.default_port),
            "port_conflicts": failing_as_filter_error(port_conflicts),
            "component_endpoints": failing_as_filter_error(topology.component_endpoints),
            "component_urls": failing_as_filter_error(topology.component_urls),
            "stack_scrape_config": failing_as_filter_error(topology.stack_scrape_config),
            "host_component_urls": failing_as_filter_error(topology.host_component_urls),
            "stack_query_urls": failing_as_filter_error(topology.stack_query_urls),
            "stack_insert_urls": failing_as_filter_error(topology.stack_insert_urls),
            "stack_remote_write_urls": failing_as_filter_error(topology.stack_remote_write_urls),
            "cluster_findings": failing_as_filter_error(topology.cluster_findings),
            "shard_findings": failing_as_filter_error(topology.shard_findings),
            "systemd_exec_lines": failing_as_filter_error(systemd_args.exec_start_lines),
            "systemd_environment_file": failing_as_filter_error(systemd_args.environment_file),
            "envflag_variables": failing_as_filter_error(systemd_args.envflag_variables),
            "sha256_for": failing_as_filter_error(archives.sha256_for),
            "release_arch": failing_as_filter_error(archives.release_arch),
        }
