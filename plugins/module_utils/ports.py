# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The port registry: which component listens on which port, and for what.

Every address the collection renders and every cross-component URL is derived
from this table plus the inventory, so that a port is typed exactly once.  It
lives in module_utils because the scrape-config validator, which runs on the
hosts too, warns about targets on non-metrics ports; the controller-side
address helpers are in plugin_utils/addresses.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PortSpec:
    """One listening port of a component."""

    default: int
    protocol: str  # "http" answers HTTP and serves /metrics; anything else does not
    purpose: str

    @property
    def serves_metrics(self) -> bool:
        return self.protocol == "http"


# The key of each component is the name of the role that deploys it.
COMPONENT_PORTS: dict[str, dict[str, PortSpec]] = {
    "victoria_metrics": {
        "http": PortSpec(8428, "http", "HTTP API, /metrics and ingestion"),
    },
    "vmagent": {
        "http": PortSpec(8429, "http", "HTTP API and /metrics"),
    },
    "vmalert": {
        "http": PortSpec(8880, "http", "HTTP API and /metrics"),
    },
    "vmauth": {
        "http": PortSpec(8427, "http", "proxy and /metrics"),
    },
    "vmstorage": {
        "http": PortSpec(8482, "http", "HTTP API and /metrics"),
        "vminsert": PortSpec(8400, "vminsert-rpc", "binary protocol for vminsert"),
        "vmselect": PortSpec(8401, "vmselect-rpc", "binary protocol for vmselect"),
    },
    "vminsert": {
        "http": PortSpec(8480, "http", "ingestion API and /metrics"),
    },
    "vmselect": {
        "http": PortSpec(8481, "http", "query API and /metrics"),
    },
    "alertmanager": {
        "http": PortSpec(9093, "http", "HTTP API and /metrics"),
        "cluster": PortSpec(9094, "memberlist", "HA gossip between Alertmanager peers"),
    },
    "node_exporter": {
        "http": PortSpec(9100, "http", "/metrics"),
    },
    "grafana": {
        "http": PortSpec(3000, "http", "web UI and /metrics"),
    },
    "promoter": {
        "http": PortSpec(8080, "http", "Alertmanager webhook receiver and API (no /metrics)"),
    },
}


def default_port(component: str, name: str = "http") -> int:
    """Return the default port number of one port of a component."""
    try:
        return COMPONENT_PORTS[component][name].default
    except KeyError:
        raise KeyError(f"the port registry has no port {name!r} for component {component!r}") from None


def non_metrics_ports() -> dict[int, str]:
    """Map each default port that does not speak HTTP to a description of its owner.

    A scrape target on one of these is almost always a mistake (for example
    vmagent scraping Alertmanager's gossip port floods its log with
    ``invalid msgType``).
    """
    found: dict[int, str] = {}
    for component, ports in COMPONENT_PORTS.items():
        for name, spec in ports.items():
            if not spec.serves_metrics:
                found[spec.default] = f"{component} {name} port ({spec.purpose})"
    return found
