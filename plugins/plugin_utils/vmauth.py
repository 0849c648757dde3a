# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""vmauth, the cluster's front door: its config from ``vmauth_users`` and the inventory, its checks, and the
credentials the other components use to go through it.

Each user of ``vmauth_users`` is ``{username, password}`` or ``{bearer_token}``, with a ``tenant`` in a
cluster. A cluster user gets two routes: ``/insert/<tenant>/.+`` over every vminsert and
``/select/<tenant>/.+`` over every vmselect; any other path, another tenant's included, has no route and
vmauth refuses it. In front of single-node VictoriaMetrics (no vminsert or vmselect in the inventory) a
user reaches the first ``victoria_metrics`` host on every path. A user that writes its own ``url_prefix`` or
``url_map`` keeps it instead; ``name`` names a user for ``vmstack_vmauth_user``; every other key goes to
vmauth as written.
"""

from __future__ import annotations

import shlex
from typing import Any, Mapping

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import parse_version
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.topology import (
    cluster_path,
    component_urls,
    tenant_problem,
)

# Keys of a vmauth_users entry that the collection reads and vmauth never sees.
_OWN_KEYS = ("name", "tenant")
_ROUTE_KEYS = ("url_prefix", "url_map")

# The oldest supported release whose vmauth has -dryRun (its -help says so;
# 1.79.5's has none).
DRY_RUN_SINCE = "1.112.0"
# Without -dryRun, vmauth is started on a spare port: a file it refuses stops
# it at once, one it still runs on after this many seconds was accepted.
START_CHECK_SECONDS = 3


def check_command(binary: str, version: str) -> str:
    """The command that checks a users file (``%s``, as the config_files module wants) with the release's binary."""
    if parse_version(version) >= parse_version(DRY_RUN_SINCE):
        return f"{shlex.quote(binary)} -dryRun -auth.config=%s -loggerLevel=ERROR"
    # timeout's status 124: the binary was still running, so it had loaded the file.
    script = (f'timeout {START_CHECK_SECONDS} "$0" -auth.config="$1" -httpListenAddr=127.0.0.1:0 -loggerLevel=ERROR; '
              "test $? -eq 124")
    return f"sh -c {shlex.quote(script)} {shlex.quote(binary)} %s"


def user_label(index: int, user: Any) -> str:
    """How a message names a user: its position and its name or username, never a secret."""
    name = user.get("name") or user.get("username") if isinstance(user, Mapping) else None
    return f"vmauth_users[{index}]" + (f" ({name})" if name else "")


def user_reference(user: Mapping[str, Any]) -> str:
    """The name vmstack_vmauth_user uses for a user: its ``name``, else its ``username``."""
    return str(user.get("name") or user.get("username") or "")


def is_cluster(groups: Mapping[str, list[str]]) -> bool:
    return bool(groups.get("vminsert") or groups.get("vmselect"))


def user_routes(groups: Mapping[str, list[str]], hostvars: Mapping[str, Mapping[str, Any]], tenant: object) -> dict[str, Any]:
    """The routes of one user: its tenant's paths over every vminsert and vmselect, else single-node."""
    if not is_cluster(groups):
        servers = component_urls(groups, hostvars, "victoria_metrics")
        return {"url_prefix": servers[0]} if servers else {}
    url_map = []
    for kind, component in (("insert", "vminsert"), ("select", "vmselect")):
        backends = component_urls(groups, hostvars, component)
        if backends:
            # The tenant's API root without its "/prometheus": every API of the tenant (Prometheus,
            # InfluxDB, the vmui, ...) and no other tenant, since "1" is followed by "/", never ":7".
            root = cluster_path(kind, tenant).rsplit("/", 1)[0]
            url_map.append({"src_paths": [f"{root}/.+"], "url_prefix": backends})
    return {"url_map": url_map}


def vmauth_config(
    users: list[Mapping[str, Any]],
    groups: Mapping[str, list[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    unauthorized_user: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """vmauth's ``-auth.config`` as a dictionary; the preflight has checked the users."""
    rendered = []
    for user in users:
        entry = {key: value for key, value in user.items() if key not in _OWN_KEYS}
        if not any(key in user for key in _ROUTE_KEYS):
            entry.update(user_routes(groups, hostvars, user.get("tenant", "0")))
        rendered.append(entry)
    config: dict[str, Any] = {"users": rendered}
    if unauthorized_user:
        config["unauthorized_user"] = dict(unauthorized_user)
    return config


def user_findings(host: str, users: object, groups: Mapping[str, list[str]]) -> list[str]:
    """What vmauth would refuse or what would route nowhere, one message each, never showing a secret."""
    if not isinstance(users, list):
        return [f"{host}: vmauth_users must be a list of users, each username and password or bearer_token."]
    findings = []
    seen: dict[tuple[str, str], str] = {}
    for index, user in enumerate(users):
        label = user_label(index, user)
        if not isinstance(user, Mapping):
            findings.append(f"{host}: {label} is no dictionary; write username and password, or bearer_token.")
            continue
        has_password = bool(user.get("username")) or bool(user.get("password"))
        has_token = bool(user.get("bearer_token"))
        if has_password and has_token:
            findings.append(f"{host}: {label} has both a password and a bearer_token; "
                            "keep one, and make the other a user of its own.")
        elif not has_password and not has_token:
            findings.append(f"{host}: {label} has neither username and password nor bearer_token; write one of them.")
        elif has_password and not (user.get("username") and user.get("password")):
            findings.append(f"{host}: {label} needs both username and password.")
        if is_cluster(groups) and not any(key in user for key in _ROUTE_KEYS):
            if "tenant" not in user:
                findings.append(f"{host}: {label} has no tenant; write tenant: \"0\" (accountID) or \"1:7\" "
                                "(accountID:projectID), the only tenant whose paths the user may reach.")
            else:
                problem = tenant_problem(f"the tenant of {label}", user["tenant"])
                if problem:
                    findings.append(f"{host}: {problem}")
        for key, what in (("username", "username"), ("bearer_token", "bearer_token"), ("name", "name")):
            value = user.get(key)
            if not value:
                continue
            if (key, str(value)) in seen:
                findings.append(f"{host}: {label} has the same {what} as {seen[(key, str(value))]}; "
                                f"each user needs its own {what}.")
            else:
                seen[(key, str(value))] = label
    return findings


def backend_findings(host: str, groups: Mapping[str, list[str]]) -> list[str]:
    """vmauth with nothing behind it."""
    if is_cluster(groups) or groups.get("victoria_metrics"):
        return []
    return [f"{host}: vmauth has no backend: put the cluster's hosts in the groups vminsert and vmselect, "
            "or single-node VictoriaMetrics in the group victoria_metrics."]


def _users_of_vmauth(groups: Mapping[str, list[str]], hostvars: Mapping[str, Mapping[str, Any]]) -> list[Any]:
    front = groups.get("vmauth") or []
    users = hostvars.get(front[0], {}).get("vmauth_users", []) if front else []
    return users if isinstance(users, list) else []


def find_user(groups: Mapping[str, list[str]], hostvars: Mapping[str, Mapping[str, Any]], reference: object) -> Mapping[str, Any]:
    """The vmauth user that vmstack_vmauth_user names, or {} when there is none."""
    for user in _users_of_vmauth(groups, hostvars):
        if isinstance(user, Mapping) and reference and user_reference(user) == str(reference):
            return user
    return {}


def client_flags(
    groups: Mapping[str, list[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    reference: object,
    prefixes: list[str],
) -> dict[str, dict[str, str]]:
    """The flags a client of vmauth (vmagent, vmalert) needs for the named user, for each flag prefix.

    ``flags`` (the usernames) go on the command line, ``secret_flags`` (passwords, tokens) through the
    environment file; both are empty without a vmauth group or a user of that name.
    """
    user = find_user(groups, hostvars, reference) if groups.get("vmauth") else {}
    flags: dict[str, str] = {}
    secret_flags: dict[str, str] = {}
    for prefix in prefixes:
        if user.get("bearer_token"):
            secret_flags[f"{prefix}.bearerToken"] = str(user["bearer_token"])
        elif user.get("username"):
            flags[f"{prefix}.basicAuth.username"] = str(user["username"])
            secret_flags[f"{prefix}.basicAuth.password"] = str(user.get("password", ""))
    return {"flags": flags, "secret_flags": secret_flags}


def client_findings(
    host: str,
    groups: Mapping[str, list[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    clients: list[str],
) -> list[str]:
    """Each vmagent or vmalert host that would go through vmauth without a user of its own tenant."""
    findings = []
    for component in clients:
        for client in groups.get(component, []):
            client_vars = hostvars.get(client, {})
            reference = client_vars.get("vmstack_vmauth_user", "")
            user = find_user(groups, hostvars, reference)
            if not user:
                known = sorted({user_reference(entry) for entry in _users_of_vmauth(groups, hostvars)
                                if isinstance(entry, Mapping)} - {""})
                findings.append(f"{host}: {component} on {client} goes through vmauth, but vmstack_vmauth_user "
                                f"({reference!r}) names none of vmauth_users; set it to one of {known} "
                                "(a username, or the name of a bearer_token user).")
                continue
            tenant = str(client_vars.get(f"{component}_cluster_tenant", client_vars.get("vmstack_cluster_tenant", "0")))
            if is_cluster(groups) and "tenant" in user and str(user["tenant"]) != tenant:
                findings.append(f"{host}: {component} on {client} uses tenant {tenant} but vmauth user "
                                f"{user_reference(user)} may reach only tenant {user['tenant']}; set "
                                f"{component}_cluster_tenant (or vmstack_cluster_tenant) to {user['tenant']}, "
                                "or name a user of that tenant.")
    return findings


def findings(
    host: str,
    users: object,
    groups: Mapping[str, list[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """Every finding of a vmauth host: its users, its backends, and the clients that go through it."""
    return user_findings(host, users, groups) + backend_findings(host, groups) + client_findings(
        host, groups, hostvars, ["vmagent", "vmalert"])
