# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""What the alertmanager role's preflight checks in its routing tree and receivers.

Only names are read, never a receiver's settings, so no secret can reach a
message.
"""

from __future__ import annotations

from typing import Any, Mapping

ROOT_PATH = "alertmanager_route"


def route_receivers(route: Mapping[str, Any], path: str = ROOT_PATH) -> list[dict[str, str]]:
    """Every receiver the route tree names, depth first: ``[{path, receiver}]``.

    ``path`` says where, e.g. ``alertmanager_route.routes[0].routes[1]``.
    """
    found = [{"path": path, "receiver": route["receiver"]}] if "receiver" in route else []
    for index, child in enumerate(route.get("routes") or []):
        found.extend(route_receivers(child, f"{path}.routes[{index}]"))
    return found


def receiver_names(receivers: list[Mapping[str, Any]]) -> list[str]:
    """The name of each receiver, in order; an unnamed one is ''."""
    return [receiver.get("name", "") for receiver in receivers]


def duplicate_names(names: list[str]) -> list[str]:
    """Each non-empty name given more than once, in order of first use."""
    seen: list[str] = []
    for name in names:
        if name != "" and name not in seen:
            seen.append(name)
    return [name for name in seen if names.count(name) > 1]


def route_problems(route: Mapping[str, Any], names: list[str]) -> list[str]:
    """One message for a root route without a receiver and one per route naming an unknown receiver."""
    problems = [] if "receiver" in route else [f"{ROOT_PATH} has no receiver (the root route needs one)."]
    for found in route_receivers(route):
        if found["receiver"] not in names:
            problems.append(f"the route {found['path']} sends to the receiver '{found['receiver']}', "
                            "which alertmanager_receivers does not define.")
    return problems


def routing(route: Mapping[str, Any], receivers: list[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Everything the preflight needs: receiver names, duplicates, unknown receivers and messages."""
    if not isinstance(route, Mapping):
        raise ValueError(f"{ROOT_PATH} must be a mapping (a route with a receiver), not {type(route).__name__}")
    names = receiver_names(receivers)
    return {
        "receiver_names": names,
        "duplicate_receivers": duplicate_names(names),
        "unknown_receivers": [found for found in route_receivers(route) if found["receiver"] not in names],
        "route_problems": route_problems(route, names),
    }
