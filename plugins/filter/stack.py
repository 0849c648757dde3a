# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Filters the roles use to render addresses, units and archive checks.

The logic lives in module_utils; these wrappers only turn its errors into
AnsibleFilterError so a play fails with the message.
"""

from __future__ import annotations

from typing import Any, Callable

from ansible.errors import AnsibleFilterError

from ansible_collections.vmstack.monitoring.plugins.module_utils import archives, ports, systemd_args, topology


def _failing_as_filter_error(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (ValueError, KeyError) as error:
            raise AnsibleFilterError(str(error)) from error

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


def port_conflicts(host: str, host_vars: dict[str, Any], group_names: list[str]) -> list[str]:
    """Messages for each port two components want on this host (empty when none)."""
    return ports.find_port_conflicts(topology.port_claims(host, host_vars, group_names))


class FilterModule:
    """vmstack.monitoring rendering filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "join_host_port": _failing_as_filter_error(ports.join_host_port),
            "probe_address": _failing_as_filter_error(ports.probe_address),
            "default_port": _failing_as_filter_error(ports.default_port),
            "port_conflicts": _failing_as_filter_error(port_conflicts),
            "component_endpoints": _failing_as_filter_error(topology.component_endpoints),
            "component_urls": _failing_as_filter_error(topology.component_urls),
            "stack_scrape_config": _failing_as_filter_error(topology.stack_scrape_config),
            "host_component_urls": _failing_as_filter_error(topology.host_component_urls),
            "systemd_exec_lines": _failing_as_filter_error(systemd_args.exec_start_lines),
            "systemd_environment_file": _failing_as_filter_error(systemd_args.environment_file),
            "envflag_variables": _failing_as_filter_error(systemd_args.envflag_variables),
            "sha256_for": _failing_as_filter_error(archives.sha256_for),
            "release_arch": _failing_as_filter_error(archives.release_arch),
        }
