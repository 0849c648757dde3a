# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Host:port strings as the binaries read them, port values, and port conflicts on one host.

Controller-side helpers around the port registry (module_utils/ports.py).
"""

from __future__ import annotations

from dataclasses import dataclass


def join_host_port(host: str, port: int | str) -> str:
    """Join a host and a port the way Go's net.JoinHostPort does.

    An IPv6 literal is put in brackets; a host that already carries them is not
    bracketed twice.
    """
    host = str(host)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def url_host_port(host: str, port: int | str) -> str:
    """The host:port part of a URL: as join_host_port, with an IPv6 zone's ``%`` escaped.

    Go's URL parser (every VictoriaMetrics and Prometheus binary) reads
    ``[fe80::1%eth0]`` as a broken percent escape and wants ``%25eth0``
    (RFC 6874); a listen address or a host:port flag takes the zone raw.
    """
    host = str(host)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host and "%" in host and "%25" not in host:
        address, zone = host.split("%", 1)
        host = f"{address}%25{zone}"
    return join_host_port(host, port)


def port_problem(variable: str, value: object) -> str | None:
    """Why a value cannot be a TCP port (naming the variable), or None when it can."""
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value)
    else:
        number = None
    if number is not None and 0 < number < 65536:
        return None
    return f"{variable} is {value!r}; write a port number from 1 to 65535."


def probe_address(listen_address: str, port: int | str) -> str:
    """Where a health check on the same host reaches a service listening on listen_address.

    A wildcard (empty, 0.0.0.0 or ::) is reached on loopback of the same family.
    A zone stays raw: the health check is Python's HTTP client, which takes the
    bracketed host as it is and hands ``fe80::1%eth0`` to the resolver.
    """
    wildcard_to_loopback = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}
    return join_host_port(wildcard_to_loopback.get(str(listen_address), str(listen_address)), port)


@dataclass(frozen=True)
class PortClaim:
    """A port that one component wants on one host."""

    host: str
    component: str
    name: str
    port: int

    def describe(self) -> str:
        return f"{self.component} ({self.name} port)"


def find_port_conflicts(claims: list[PortClaim]) -> list[str]:
    """Return one message per port that two components claim on the same host."""
    owners: dict[tuple[str, int], PortClaim] = {}
    messages: list[str] = []
    for claim in claims:
        key = (claim.host, int(claim.port))
        first = owners.setdefault(key, claim)
        if first is not claim:
            messages.append(
                f"{claim.host}: port {claim.port} is claimed by both {first.describe()} "
                f"and {claim.describe()}; give one of them another port"
            )
    return messages
