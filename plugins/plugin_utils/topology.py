# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Addresses of the components in an inventory, derived from the port registry.

A component's hosts are the members of the inventory group named after its
role (``victoria_metrics``, ``alertmanager``, ...). Each host's address is
``vmstack_address`` if set, else ``ansible_host``, else the inventory name; its
port is the role's own port variable (``alertmanager_port``,
``alertmanager_cluster_port``, ...) if the host sets it, else the registry's default.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ansible_collections.vmstack.monitoring.plugins.module_utils.ports import COMPONENT_PORTS
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.addresses import (
    PortClaim,
    find_port_conflicts,
    join_host_port,
    port_problem,
    url_host_port,
)
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.durations import parse_vm_duration
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import parse_version

# VictoriaMetrics' scrape_timeout when none is set.
DEFAULT_SCRAPE_TIMEOUT_SECONDS = 10.0


def port_variable(component: str, name: str = "http") -> str:
    """The role variable that overrides one port: ``<role>_port`` or ``<role>_<name>_port``."""
    return f"{component}_port" if name == "http" else f"{component}_{name}_port"


def host_address(host_vars: Mapping[str, Any], host: str) -> str:
    return str(host_vars.get("vmstack_address") or host_vars.get("ansible_host") or host)


def host_port(host_vars: Mapping[str, Any], component: str, name: str = "http", host: str = "") -> int:
    """The port from the host's variables or the registry; a value that is no port fails naming both."""
    variable = port_variable(component, name)
    value = host_vars.get(variable, COMPONENT_PORTS[component][name].default)
    problem = port_problem(variable, value)
    if problem:
        raise ValueError(f"{host or 'a host'}: {problem}")
    return int(value)


def component_endpoints(
    groups: Mapping[str, list[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    component: str,
    name: str = "http",
    join: Callable[[str, int], str] = join_host_port,
) -> list[str]:
    """``host:port`` of one port of a component on each host of its group, in inventory order.

    The host stays raw (an IPv6 zone as ``%eth0``), as flags such as
    ``--cluster.peer`` want it; URLs pass ``url_host_port``.
    """
    if component not in COMPONENT_PORTS or name not in COMPONENT_PORTS[component]:
        raise KeyError(f"the port registry has no port {name!r} for component {component!r}")
    endpoints = []
    for host in groups.get(component, []):
        host_vars = hostvars.get(host, {})
        endpoints.append(join(host_address(host_vars, host), host_port(host_vars, component, name, host)))
    return endpoints


def component_urls(
    groups: Mapping[str, list[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    component: str,
    path: str = "",
    scheme: str = "http",
) -> list[str]:
    """``scheme://host:port/path`` of a component's HTTP port on each host of its group."""
    endpoints = component_endpoints(groups, hostvars, component, join=url_host_port)
    return [f"{scheme}://{endpoint}{path}" for endpoint in endpoints]


def port_claims(
    host: str,
    host_vars: Mapping[str, Any],
    group_names: list[str],
) -> list[PortClaim]:
    """Every port the components deployed on one host will listen on (valid ports only)."""
    claims = []
    for component, port_specs in COMPONENT_PORTS.items():
        if component not in group_names:
            continue
        for name in port_specs:
            # A value that is no port is a finding of its own (port_findings), not a claim.
            try:
                claims.append(PortClaim(host, component, name, host_port(host_vars, component, name, host)))
            except ValueError:
                continue
    return claims


def port_findings(host: str, host_vars: Mapping[str, Any], group_names: list[str]) -> list[str]:
    """Each port variable of the host's components that is no port, then each port two components claim."""
    problems = [
        f"{host}: {problem}"
        for component, port_specs in COMPONENT_PORTS.items()
        if component in group_names
        for name in port_specs
        if port_variable(component, name) in host_vars
        for problem in [port_problem(port_variable(component, name), host_vars[port_variable(component, name)])]
        if problem
    ]
    return problems + find_port_conflicts(port_claims(host, host_vars, group_names))


# Components whose HTTP port serves /metrics, in the order their jobs appear
# (promoter has no /metrics: its target would always be down).
SCRAPED_COMPONENTS = ("victoria_metrics", "vmagent", "vmalert", "alertmanager", "node_exporter",
                      "vmstorage", "vminsert", "vmselect", "vmauth", "grafana")


def stack_scrape_config(
    groups: Mapping[str, list[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    scrape_interval: str = "30s",
) -> dict[str, Any]:
    """A scrape config with one job per component group of the inventory.

    Only the HTTP (metrics) port of each component is a target, never a
    gossip or RPC port, and each host:port appears once, in sorted order. An inventory with
    none of the groups gives an empty dict (no scraping).
    """
    jobs = []
    for component in SCRAPED_COMPONENTS:
        if component not in COMPONENT_PORTS:
            continue
        # Sorted, so that the config does not change when the inventory lists hosts in another order.
        # The binary turns each target into a URL: an IPv6 zone needs its escape.
        targets = sorted(set(component_endpoints(groups, hostvars, component, join=url_host_port)))
        if targets:
            jobs.append({"job_name": component, "static_configs": [{"targets": targets}]})
    if not jobs:
        return {}
    settings: dict[str, Any] = {"scrape_interval": scrape_interval}
    # A timeout longer than the interval is silently cut by the binary; say it.
    if parse_vm_duration(scrape_interval, parse_version("1.79.5")) < DEFAULT_SCRAPE_TIMEOUT_SECONDS:
        settings["scrape_timeout"] = scrape_interval
    return {"global": settings, "scrape_configs": jobs}


# The page a person opens first for each component.
COMPONENT_HOME_PATHS = {
    "victoria_metrics": "/vmui/",
    "vmagent": "/targets",
    "vmalert": "/",
    "alertmanager": "/",
    "node_exporter": "/metrics",
    "vmselect": "/select/0/vmui/",
    "vmauth": "/health",
    "grafana": "/",
    "promoter": "/api/v1/receivers",
}


def host_component_urls(host: str, host_vars: Mapping[str, Any], group_names: list[str]) -> dict[str, str]:
    """The URL of each component deployed on one host, for the closing summary."""
    address = host_address(host_vars, host)
    return {
        component: f"http://{url_host_port(address, host_port(host_vars, component, host=host))}{COMPONENT_HOME_PATHS.get(component, '/')}"
        for component in COMPONENT_PORTS
        if component in group_names
    }


# A VictoriaMetrics cluster tenant: accountID, or accountID:projectID (both uint32).
_TENANT_MAX = 2**32 - 1


def tenant_problem(variable: str, value: object) -> str | None:
    """Why a value cannot be a cluster tenant (naming the variable), or None when it can."""
    parts = str(value).split(":")
    if 1 <= len(parts) <= 2 and all(part.isdigit() and int(part) <= _TENANT_MAX for part in parts):
        return None
    return f"{variable} is {value!r}; write an accountID such as 0, or accountID:projectID such as 1:7."


def cluster_path(kind: str, tenant: object) -> str:
    """The Prometheus API root of a tenant on vminsert (``insert``) or vmselect (``select``)."""
    problem = tenant_problem("the tenant", tenant)
    if problem:
        raise ValueError(problem)
    return f"/{kind}/{tenant}/prometheus"


def stack_query_urls(
    groups: Mapping[str, list[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    tenant: object = "0",
    through_vmauth: bool = False,
) -> list[str]:
    """Where the stack queries: each vmselect's tenant path when a cluster is deployed, else each VictoriaMetrics.

    ``through_vmauth``: each vmauth instead, on the same path, when the inventory has a vmauth group.
    """
    if through_vmauth and groups.get("vmauth"):
        return component_urls(groups, hostvars, "vmauth", cluster_path("select", tenant) if groups.get("vmselect") else "")
    if groups.get("vmselect"):
        return component_urls(groups, hostvars, "vmselect", cluster_path("select", tenant))
    return component_urls(groups, hostvars, "victoria_metrics")


def stack_insert_urls(
    groups: Mapping[str, list[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    tenant: object = "0",
    through_vmauth: bool = False,
) -> list[str]:
    """Where the stack writes (Prometheus API root): each vminsert's tenant path, else each VictoriaMetrics.

    ``through_vmauth``: each vmauth instead, on the same path, when the inventory has a vmauth group.
    """
    if through_vmauth and groups.get("vmauth"):
        return component_urls(groups, hostvars, "vmauth", cluster_path("insert", tenant) if groups.get("vminsert") else "")
    if groups.get("vminsert"):
        return component_urls(groups, hostvars, "vminsert", cluster_path("insert", tenant))
    return component_urls(groups, hostvars, "victoria_metrics")


def stack_remote_write_urls(
    groups: Mapping[str, list[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    tenant: object = "0",
    through_vmauth: bool = False,
) -> list[str]:
    """vmagent's remote write URLs: one vminsert of a cluster, else every single-node VictoriaMetrics.

    vmagent sends every sample to each URL it is given: several vminserts of
    one cluster would store each sample several times, while several
    single-node servers are separate copies on purpose. Through vmauth
    (``through_vmauth`` and a vmauth group), the first vmauth only, for the
    same reason: it spreads the samples over the vminserts itself.
    """
    via_vmauth = through_vmauth and bool(groups.get("vmauth"))
    urls = [f"{url}/api/v1/write" for url in stack_insert_urls(groups, hostvars, tenant, via_vmauth)]
    return urls[:1] if via_vmauth or groups.get("vminsert") else urls


def _whole_number(value: object) -> int | None:
    if isinstance(value, bool) or not str(value).strip().isdigit():
        return None
    return int(str(value))


def cluster_findings(
    host: str,
    groups: Mapping[str, list[str]],
    replication_factor: object,
    variable: str,
) -> list[str]:
    """What keeps a vminsert or vmselect host from working with the inventory's vmstorage group.

    A factor of RF needs at least 2 x RF - 1 vmstorage nodes: while RF - 1 of
    them are down (a rolling upgrade takes one at a time) vminsert still needs
    RF live nodes to keep every new sample RF times, and vmselect still finds
    a copy of every older one.
    """
    storage_nodes = len(groups.get("vmstorage", []))
    if storage_nodes == 0:
        return [f"{host}: the inventory has no vmstorage group for vminsert and vmselect to use; "
                "put the storage nodes in a group named vmstorage."]
    highest = (storage_nodes + 1) // 2
    factor = _whole_number(replication_factor)
    if factor is None or factor < 1:
        return [f"{host}: {variable} is {replication_factor!r}; write a whole number from 1 to {highest}."]
    needed = 2 * factor - 1
    if storage_nodes < needed:
        return [f"{host}: {variable} is {factor} but the vmstorage group has {storage_nodes} node(s); "
                f"a factor of {factor} needs at least {needed} (2 x {factor} - 1) so that, with {factor - 1} "
                f"of them down, every new sample is still stored {factor} times. "
                f"Write at most {highest}, or add vmstorage nodes."]
    return []


def shard_findings(
    host: str,
    groups: Mapping[str, list[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    sharding: object,
    replication: object,
) -> list[str]:
    """What keeps a vmagent host from being one shard of the vmagent group.

    With sharding each member scrapes its share of the targets; with a shard
    replication above 1 each target is scraped by that many members, and the
    storage keeps every copy unless it deduplicates.
    """
    members = sorted(groups.get("vmagent", []))
    factor = _whole_number(replication)
    if not sharding:
        if factor != 1:
            return [f"{host}: vmagent_shard_replication is {replication!r} but vmagent_sharding is off; "
                    "turn sharding on, or leave the replication at 1."]
        return []
    if host not in members:
        return [f"{host}: vmagent_sharding is on but the host is not in the vmagent group, whose members "
                "share the targets; put it in that group, or turn vmagent_sharding off."]
    if factor is None or not 1 <= factor <= len(members):
        return [f"{host}: vmagent_shard_replication is {replication!r}; write a whole number from 1 to "
                f"{len(members)} (the vmagent group's size)."]
    if factor == 1:
        return []
    # Replicas scrape a few milliseconds apart: only a dedup interval drops the extra copies.
    storage = (("vmstorage", "vmstorage_dedup_min_scrape_interval"),) if groups.get("vmstorage") else (
        ("victoria_metrics", "victoria_metrics_dedup_min_scrape_interval"),)
    lacking = [f"{variable} on {node}" for group, variable in storage for node in groups.get(group, [])
               if not str(hostvars.get(node, {}).get(variable) or "").strip()]
    if groups.get("vmstorage"):
        lacking += [f"dedup.minScrapeInterval in vmselect_extra_flags on {node}" for node in groups.get("vmselect", [])
                    if not str((hostvars.get(node, {}).get("vmselect_extra_flags") or {}).get("dedup.minScrapeInterval") or "").strip()]
    if lacking:
        return [f"{host}: vmagent_shard_replication is {factor}: each target is scraped by {factor} vmagents and "
                f"every copy is stored unless the storage deduplicates; set the scrape interval as "
                f"{', '.join(lacking)}."]
    return []
