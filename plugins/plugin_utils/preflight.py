# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Checks of a role's settings that run on the controller before any host changes.

Each check returns findings: one sentence per problem that names the host,
the variable and what to write instead, so that a play can list them all at
once. Values are never quoted where they may be secrets.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ansible_collections.vmstack.monitoring.plugins.module_utils.ports import COMPONENT_PORTS
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import Feature, parse_version
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.addresses import port_problem
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.flags import unchecked_note, unknown_flag_findings
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.topology import host_port, port_variable, tenant_problem

# Directories that belong to the system or to every service: a component that
# took one over (owner, mode, ReadWritePaths=) would break the others.
SYSTEM_DIRECTORIES = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt",
    "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib",
    "/usr/local", "/usr/local/bin", "/usr/local/lib", "/usr/local/sbin", "/usr/local/share", "/usr/sbin",
    "/usr/share", "/var", "/var/backups", "/var/cache", "/var/lib", "/var/local", "/var/lock", "/var/log",
    "/var/mail", "/var/opt", "/var/run", "/var/spool", "/var/tmp", "/etc/systemd", "/etc/systemd/system",
    "/etc/default", "/etc/ssl",
})
# Kernel and boot file systems: nothing of a service lives anywhere below them.
SYSTEM_TREES = ("/proc", "/sys", "/dev", "/boot")

# Go's time.ParseDuration: a run of <decimal><unit>, or a bare 0.
_GO_DURATION = re.compile(r"^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$")
# -retentionPeriod: a number of months, or a number with a unit. Every
# supported release takes s, h, d, w and y and refuses a lower-case m (it
# would mean minutes); the M of months came later (see the role's release data).
_RETENTION = re.compile(r"^(?P<number>\d+(\.\d+)?)(?P<unit>[a-zA-Z]?)$")
_RETENTION_UNIT_SECONDS = {"s": 1, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400, "M": 31 * 86400, "": 31 * 86400}
_DAY_SECONDS = 86400


@dataclass(frozen=True)
class DirectoryClaim:
    """A directory that one component creates and owns on a host."""

    component: str
    path: str
    variable: str  # the setting it comes from, or "" for a path fixed by the role

    def describe(self) -> str:
        source = self.variable or "fixed by the role"
        return f"{self.component}'s {self.path} ({source})"


def directory_claims(component: str, directories: Iterable[Mapping[str, Any]]) -> list[DirectoryClaim]:
    """The claims of one component, from its service description's ``directories``."""
    return [DirectoryClaim(component, str(item["path"]), str(item.get("variable", ""))) for item in directories]


def _is_below(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def path_problem(path: str) -> str | None:
    """Why a directory cannot belong to a service, or None when it can."""
    if not path.startswith("/"):
        return "is not an absolute path; write one such as /var/lib/<service>"
    if posixpath.normpath(path) != path or path.startswith("//"):
        return f"is not written in its plain form; write {posixpath.normpath(path)!r}"
    if path in SYSTEM_DIRECTORIES or any(_is_below(path, tree) for tree in SYSTEM_TREES):
        return ("is a system directory that other programs use; the service's owner and mode would be put on it: "
                "write a directory of its own below it, such as /var/lib/<service>")
    return None


def own_directory_findings(host: str, claims: Iterable[DirectoryClaim]) -> list[str]:
    """A finding for each directory of one component that no service may own."""
    findings = []
    for claim in claims:
        problem = path_problem(claim.path)
        if problem:
            findings.append(f"{host}: {claim.variable or claim.component + ' directory'} {claim.path!r} {problem}.")
    return findings


def overlap_findings(host: str, claims: Iterable[DirectoryClaim]) -> list[str]:
    """A finding for each directory of one component that is, holds or lies in another component's."""
    claims = list(claims)
    findings = []
    for index, first in enumerate(claims):
        for second in claims[index + 1:]:
            if first.component == second.component:
                continue
            if _is_below(first.path, second.path) or _is_below(second.path, first.path):
                variable = second.variable or first.variable or "the directory"
                findings.append(
                    f"{host}: {second.describe()} and {first.describe()} overlap; each component needs a directory "
                    f"of its own: change {variable}."
                )
    return findings


def writable_path_findings(host: str, component: str, directories: Iterable[Mapping[str, Any]],
                           read_write_paths: Iterable[str]) -> list[str]:
    """ReadWritePaths= may name only directories the service itself creates."""
    own = {str(item["path"]) for item in directories}
    return [
        f"{host}: {component} would be allowed to write to {path!r}, which is not one of its own directories "
        f"({', '.join(sorted(own)) or 'none'})."
        for path in read_write_paths
        if str(path) not in own
    ]


def existing_directory_findings(host: str, service: Mapping[str, Any], stats: Iterable[Mapping[str, Any]]) -> list[str]:
    """A directory named by a setting that already exists with another owner or group is not taken over.

    ``stats`` are the results of ``vmstack.monitoring.path_stats`` (or of
    ``ansible.builtin.stat`` looped) over the service's directories, in order. A directory the collection created for
    the service already has the owner and group it gives it.
    """
    findings = []
    for item, result in zip(service.get("directories", []), stats):
        stat = result.get("stat") or {}
        if not item.get("variable") or not stat.get("exists") or path_problem(str(item["path"])):
            continue
        wanted = (str(item.get("owner", "root")), str(item.get("group", service["group"])))
        found = (str(stat.get("pw_name")), str(stat.get("gr_name")))
        if not stat.get("isdir"):
            findings.append(f"{host}: {item['variable']} {item['path']!r} exists and is not a directory; "
                            f"choose another path.")
        elif found != wanted:
            findings.append(
                f"{host}: {item['variable']} {item['path']!r} already exists and belongs to {found[0]}:{found[1]}, "
                f"so the collection did not create it for {service['name']} and will not change its owner and mode: "
                f"choose a path that does not exist yet, or chown it to {wanted[0]}:{wanted[1]} yourself."
            )
    return findings


def _line_break_locations(value: Any, where: str) -> list[str]:
    """Where in a (nested) value a string holds a line break or NUL byte."""
    if isinstance(value, Mapping):
        return [found for key, item in value.items() for found in _line_break_locations(item, f"{where}[{key!r}]")]
    if isinstance(value, (list, tuple)):
        return [found for index, item in enumerate(value) for found in _line_break_locations(item, f"{where}[{index}]")]
    text = str(value) if value is not None else ""
    return [where] if any(char in text for char in "\n\r\0") else []


def setting_findings(host: str, settings: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Findings for a role's settings, grouped by what each must be.

    ``settings`` maps a kind to ``{variable: value}``: ``ports``,
    ``go_durations`` (empty allowed: the flag is left out), ``retention``,
    ``seconds`` (a positive whole number), ``tenants`` (a cluster tenant,
    ``N`` or ``N:M``), ``single_line`` (any value; no
    string inside it may break the line, since each ends up in one flag or one
    line of a unit or config file) and ``collectors`` (lists of node_exporter
    collector names). ``release`` is not a kind but the role's release data
    (see release_lacks), against which retention and collectors are checked.
    A value is named only where it cannot be a secret.
    """
    findings = []
    for variable, value in (settings.get("ports") or {}).items():
        problem = port_problem(variable, value)
        if problem:
            findings.append(f"{host}: {problem}")
    for variable, value in (settings.get("go_durations") or {}).items():
        if str(value) != "" and not _GO_DURATION.match(str(value)):
            findings.append(f"{host}: {variable} is {value!r}; write a duration such as 30s, 1m or 1h30m "
                            f"(units ms, s, m, h; no days).")
    release = settings.get("release") or {}
    for variable, value in (settings.get("retention") or {}).items():
        problem = retention_problem(str(value), release)
        if problem:
            findings.append(f"{host}: {variable} is {value!r}; {problem}")
    for variable, names in (settings.get("collectors") or {}).items():
        findings.extend(f"{host}: {variable} {problem}" for problem in missing_collector_problems(names or [], release))
    for variable, value in (settings.get("seconds") or {}).items():
        if isinstance(value, bool) or not str(value).isdigit() or int(value) == 0:
            findings.append(f"{host}: {variable} is {value!r}; write a whole number of seconds, at least 1.")
    for variable, value in (settings.get("tenants") or {}).items():
        problem = tenant_problem(variable, value)
        if problem:
            findings.append(f"{host}: {problem}")
    for variable, value in (settings.get("single_line") or {}).items():
        for where in _line_break_locations(value, variable):
            findings.append(f"{host}: {where} contains a line break (or NUL byte), which would end its flag or "
                            f"line early; write it on one line.")
    return findings


def _feature(since: Any) -> Feature:
    """A release-data entry: the first release, or ``{since, lts: {line: first patch release}}``."""
    if isinstance(since, Mapping):
        return Feature(str(since["since"]), {str(line): str(first) for line, first in (since.get("lts") or {}).items()})
    return Feature(str(since))


def release_lacks(release: Mapping[str, Any], feature: str) -> str | None:
    """The release that brought ``feature`` when the deployed one is older, else None.

    ``release`` is a role's release data: the ``variable`` that sets the
    version, the ``version`` itself, and ``since``, the first release of each
    feature that came after the oldest supported one (with the long-term
    support lines that got it later, if any). Without data (or with a version
    that cannot be read, which the install reports) nothing is lacking.
    """
    since = (release.get("since") or {}).get(feature)
    if since is None or not release.get("version"):
        return None
    try:
        deployed = parse_version(str(release["version"]))
    except ValueError:
        return None
    wanted = _feature(since)
    return None if wanted.available_in(deployed) else wanted.since


def release_has(release: Mapping[str, Any], feature: str) -> bool:
    """Whether the deployed release has a feature of the role's release data."""
    return feature in (release.get("since") or {}) and release_lacks(release, feature) is None


def _deployed(release: Mapping[str, Any]) -> str:
    return f"{release.get('version')} ({release.get('variable', 'the release')})"


def retention_problem(value: str, release: Mapping[str, Any]) -> str | None:
    """What is wrong with a -retentionPeriod for the deployed release, or None."""
    months_since = release_lacks(release, "retention_months_suffix")
    months = "1" if months_since else "1M"
    syntax = f"write a number of months ({months}) or a number with s, h, d, w or y (30d, 2w, 1y)."
    match = _RETENTION.match(value)
    if not match:
        return syntax
    number, unit = float(match.group("number")), match.group("unit")
    if unit == "m":
        return (f"VictoriaMetrics refuses a lower-case m (it would mean minutes): write months as {months}, "
                f"or days such as 30d.")
    if unit == "M" and months_since:
        return (f"VictoriaMetrics {_deployed(release)} takes months as a bare number: write "
                f"{match.group('number')} (the M suffix needs {months_since} or later).")
    if unit not in _RETENTION_UNIT_SECONDS:
        return syntax
    if number * _RETENTION_UNIT_SECONDS[unit] < _DAY_SECONDS:
        return "VictoriaMetrics refuses to start with a retention shorter than a day: write at least 1d."
    return None


def missing_collector_problems(names: Iterable[str], release: Mapping[str, Any]) -> list[str]:
    """node_exporter collectors (enabled or disabled by name) that the deployed release does not have."""
    problems = []
    for name in names:
        since = release_lacks(release, f"collector.{name}")
        if since:
            problems.append(f"names the collector {name!r}, which node_exporter {_deployed(release)} does not have "
                            f"(it came in {since}): remove it, or set {release.get('variable')} to {since} or later.")
    return problems


def port_agreement_findings(host: str, component: str, ports: Mapping[str, Any],
                            inventory_vars: Mapping[str, Any]) -> list[str]:
    """A port the role listens on must be the one every URL pointing at it is derived from.

    ``ports`` are the role's port variables as the role sees them (play and
    role variables included); ``inventory_vars`` are the host's variables as
    every other host sees them (hostvars: inventory, extra vars, facts), from
    which the URLs are derived, the registry's default filling in.  A port
    that is no port at all is a finding of setting_findings.
    """
    findings = []
    for name in COMPONENT_PORTS.get(component, {}):
        variable = port_variable(component, name)
        if variable not in ports or port_problem(variable, ports[variable]):
            continue
        try:
            derived = host_port(inventory_vars, component, name, host)
        except ValueError:
            continue  # the inventory's value is no port: setting_findings says so
        if int(ports[variable]) != derived:
            findings.append(
                f"{host}: {variable} must be the port every URL pointing at {component} is derived from: the "
                f"inventory gives this host {derived}, this play {int(ports[variable])}. Set {variable} in the "
                f"inventory (host_vars or group_vars) or as an extra var, not as a play or role variable."
            )
    return findings


def managed_flag_findings(host: str, component: str, extra_flags: Mapping[str, Any],
                          managed_flags: Mapping[str, str]) -> list[str]:
    """``<role>_extra_flags`` may not set a flag the role sets itself; ``managed_flags`` maps each to its variable."""
    variable = f"{component}_extra_flags"
    return [
        f"{host}: {variable} sets {flag!r}, which the {component} role sets itself: remove it from {variable} "
        f"and set {managed_flags[flag]} instead."
        for flag in extra_flags or {}
        if flag in managed_flags
    ]


def _added_flags(role: str, service: Mapping[str, Any]) -> dict[str, Any]:
    """The flags the user adds to the role's own, by the variable that adds them."""
    return {f"{role}_extra_flags": service.get("extra_flags"), f"{role}_secret_flags": service.get("secret_flags")}


def service_notes(host: str, component: str, service: Mapping[str, Any]) -> list[str]:
    """What service_findings could not check for lack of facts, to show as warnings (no finding: nothing is wrong)."""
    role = str(service.get("role") or component)
    note = unchecked_note(host, component, service["version"], _added_flags(role, service)) if service.get("version") else None
    return [note] if note else []


def service_findings(host: str, component: str, settings: Mapping[str, Any], service: Mapping[str, Any],
                     inventory_vars: Mapping[str, Any] | None = None, group_names: Iterable[str] = ()) -> list[str]:
    """Everything the controller can check about one component on one host before any change.

    With ``inventory_vars`` (the host's hostvars) and ``group_names``, a host
    of the role's inventory group is also checked for a port that differs
    from the one the URLs use.  ``service["role"]`` names the role when the
    service's name differs (victoria-metrics).  With ``service["version"]``, the
    flags the user adds (``extra_flags``, ``secret_flags``) are checked
    against the ones that release of the component knows (flags.py).
    """
    directories = list(service.get("directories") or [])
    # The registry, the inventory groups and the variables are named after the role, the service may not be.
    role = str(service.get("role") or component)
    in_group = role in list(group_names)
    return (
        setting_findings(host, settings)
        + (port_agreement_findings(host, role, settings.get("ports") or {}, inventory_vars)
           if inventory_vars is not None and in_group else [])
        + managed_flag_findings(host, role, service.get("extra_flags") or {}, service.get("managed_flags") or {})
        + (unknown_flag_findings(host, component, service["version"], f"{role}_version", _added_flags(role, service))
           if service.get("version") else [])
        + own_directory_findings(host, directory_claims(component, directories))
        + writable_path_findings(host, component, directories, service.get("read_write_paths") or [])
    )


def host_overlap_findings(host: str, directories: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[str]:
    """Directories that two components of one host would share; ``directories`` maps component to its list."""
    claims = [
        claim
        for component, items in directories.items()
        for claim in directory_claims(component, items or [])
    ]
    return overlap_findings(host, claims)


# What Ansible puts around a filter's own message when a task fails on it.
_ANSIBLE_WRAPPING = re.compile(r"^.*(The filter plugin '[^']+' failed|Error while resolving value for '[^']+'): ", re.DOTALL)


def _failed(results: Iterable[Any]) -> list[str]:
    messages = []
    for result in results:
        if not isinstance(result, Mapping):
            continue
        if "results" in result:
            messages.extend(_failed(result["results"]))
        elif result.get("failed"):
            messages.append(_ANSIBLE_WRAPPING.sub("", str(result.get("msg", "a check failed"))).strip())
    return messages


def failed_messages(results: Iterable[Any], host: str, hosts: Iterable[str] = ()) -> list[str]:
    """The messages of the registered check results that failed (a loop's items included), once each.

    Each names the host it is about: a message that does not start with one
    of ``hosts`` gets ``host`` in front (a setting of another host can fail a
    check here, through a URL derived from it).
    """
    prefixes = tuple(f"{name}: " for name in [host, *hosts])
    messages = []
    for message in _failed(results):
        named = message if message.startswith(prefixes) else f"{host}: {message}"
        if named not in messages:
            messages.append(named)
    return messages
