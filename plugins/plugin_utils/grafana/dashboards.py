# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Grafana dashboards for file provisioning: bind their inputs, normalise them.

A dashboard exported "for sharing externally" (every dashboard on grafana.com
is one) does not name its datasources: it declares them in ``__inputs`` and
writes ``${DS_PROMETHEUS}`` wherever the datasource goes. Grafana's import
dialog asks which datasource to use and substitutes it. File provisioning has
no dialog, so such a file would show every panel broken; this module does what
the dialog does, on the controller, before the file reaches a host:

- every datasource input is bound to the uid of a provisioned datasource (the
  one named for that input, else the dashboard's datasource when the input's
  plugin speaks PromQL), and a whole value ``"datasource": "${DS_X}"`` (the old
  by-name form) becomes a ``{"type", "uid"}`` reference;
- every constant input is bound to its value (or the one given for it);
- a dashboard still holding a ``${DS_...}`` placeholder is refused;
- ``__inputs`` is dropped, ``id`` is cleared (Grafana assigns it) and the
  dashboard gets a ``uid`` when it has none, so its URL stays stable;
- the result is rendered with sorted keys, so a re-run writes the same bytes.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Iterable, Mapping

# Datasource plugins that answer PromQL, to which a dashboard's own
# datasource (a Prometheus-type one) may be bound without naming it.
PROMQL_PLUGINS = frozenset({"prometheus", "victoriametrics-metrics-datasource", "victoriametrics-datasource"})

# Grafana refuses longer uids (and characters other than these).
UID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
UNBOUND_DATASOURCE = re.compile(r"\$\{DS_[^}]*\}")
PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


class DashboardError(ValueError):
    """A dashboard that cannot be provisioned as it is."""


def load_dashboard(source: Any, name: str = "dashboard") -> dict[str, Any]:
    """Parse a dashboard (JSON text or an already parsed dict) into a new dict.

    The HTTP API's export format (``{"dashboard": {...}, "meta": {...}}``) is
    unwrapped to the dashboard itself.
    """
    if isinstance(source, (bytes, bytearray)):
        source = source.decode("utf-8")
    if isinstance(source, str):
        try:
            data = json.loads(source)
        except json.JSONDecodeError as error:
            raise DashboardError(f"{name} is not valid JSON: {error}") from None
    elif isinstance(source, Mapping):
        data = copy.deepcopy(dict(source))
    else:
        raise DashboardError(f"{name}: expected the JSON text of a dashboard, got {type(source).__name__}")
    if not isinstance(data, dict):
        raise DashboardError(f"{name}: a dashboard is a JSON object, got {type(data).__name__}")
    inner = data.get("dashboard")
    if isinstance(inner, dict) and "panels" not in data and "rows" not in data:
        data = inner
    return data


def _walk_strings(value: Any, path: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def bind_inputs(
    dashboard: dict[str, Any],
    datasource: str | None = None,
    datasources: Mapping[str, str] | None = None,
    datasource_types: Mapping[str, str] | None = None,
    constants: Mapping[str, Any] | None = None,
    name: str = "dashboard",
) -> dict[str, Any]:
    """Return a copy of ``dashboard`` with its ``${...}`` inputs replaced.

    ``datasource`` is the uid used for every PromQL datasource input not named
    in ``datasources`` (input name -> uid). ``datasource_types`` (uid -> plugin
    type) lists the datasources that exist: binding to another uid is an error.
    ``constants`` (input name -> value) override the values of constant inputs.
    """
    datasources = dict(datasources or {})
    constants = dict(constants or {})
    types = dict(datasource_types or {})
    problems: list[str] = []
    bound: dict[str, dict[str, str]] = {}
    values: dict[str, str] = {}

    def check_uid(uid: str, what: str) -> bool:
        if types and uid not in types:
            problems.append(f"{what} is bound to the datasource uid {uid!r}, which is not provisioned "
                            f"(provisioned: {', '.join(sorted(types)) or 'none'})")
            return False
        return True

    inputs = dashboard.get("__inputs") or []
    if not isinstance(inputs, list):
        raise DashboardError(f"{name}: __inputs must be a list")
    declared = {str(item.get("name")) for item in inputs if isinstance(item, dict)}
    for item in inputs:
        if not isinstance(item, dict) or not item.get("name"):
            problems.append(f"an entry of __inputs has no name: {item!r}")
            continue
        input_name = str(item["name"])
        kind = item.get("type")
        if kind == "datasource":
            plugin = str(item.get("pluginId") or "")
            uid = datasources.get(input_name)
            if uid is None:
                if plugin and plugin not in PROMQL_PLUGINS:
                    problems.append(f"the input {input_name} wants a {plugin!r} datasource; "
                                    f"name its uid in datasources ({input_name}: UID)")
                    continue
                if not datasource:
                    problems.append(f"the input {input_name} has no datasource to bind to")
                    continue
                uid = datasource
            if check_uid(uid, f"the input {input_name}"):
                bound[input_name] = {"type": types.get(uid, plugin or "prometheus"), "uid": uid}
        elif kind == "constant":
            values[input_name] = str(constants.get(input_name, item.get("value", "")))
    # Placeholders named explicitly but not declared in __inputs (hand-made files).
    for input_name, uid in datasources.items():
        if input_name not in declared and check_uid(uid, f"the input {input_name}"):
            bound[input_name] = {"type": types.get(uid, "prometheus"), "uid": uid}
    for input_name, value in constants.items():
        values.setdefault(input_name, str(value))
    if problems:
        raise DashboardError(f"{name}: " + "; ".join(problems))

    replacements = {input_name: ref["uid"] for input_name, ref in bound.items()}
    replacements.update(values)

    def substitute(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {item_key: substitute(item, item_key) for item_key, item in value.items()}
        if isinstance(value, list):
            return [substitute(item) for item in value]
        if isinstance(value, str):
            whole = PLACEHOLDER.fullmatch(value)
            if key == "datasource" and whole and whole.group(1) in bound:
                return dict(bound[whole.group(1)])
            return PLACEHOLDER.sub(lambda match: replacements.get(match.group(1), match.group(0)), value)
        return value

    result = substitute({key: item for key, item in dashboard.items() if key != "__inputs"})
    unbound = sorted({match for _path, text in _walk_strings(result) for match in UNBOUND_DATASOURCE.findall(text)})
    if unbound:
        raise DashboardError(
            f"{name} uses the datasource input(s) {', '.join(unbound)}, which it does not declare in __inputs; "
            f"name their uids in datasources ({unbound[0][2:-1]}: UID)"
        )
    return result


def default_uid(file_name: str) -> str:
    """A stable uid derived from a file name (``node-exporter-full.json`` -> ``node-exporter-full``)."""
    stem = re.sub(r"\.json$", "", file_name)
    uid = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")
    return uid[:40] or "dashboard"


def normalise(dashboard: dict[str, Any], file_name: str, uid: str | None = None) -> dict[str, Any]:
    """Make a bound dashboard fit for a file provider (in place; also returned)."""
    title = dashboard.get("title")
    if not isinstance(title, str) or not title.strip():
        raise DashboardError(f"{file_name} has no title")
    dashboard["id"] = None
    if uid:
        dashboard["uid"] = uid
    elif not dashboard.get("uid"):
        dashboard["uid"] = default_uid(file_name)
    if not isinstance(dashboard["uid"], str) or not UID_PATTERN.match(dashboard["uid"]):
        raise DashboardError(
            f"{file_name}: the uid {dashboard['uid']!r} is not valid "
            "(1 to 40 letters, digits, '-' or '_'); set another with uid"
        )
    return dashboard


def render(dashboard: Mapping[str, Any]) -> str:
    """The file content: sorted keys, two-space indents, a final newline."""
    return json.dumps(dashboard, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def prepare_dashboards(
    entries: list[Mapping[str, Any]],
    datasource: str | None = None,
    datasource_types: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Bind, normalise and render dashboards; return {file name: JSON text}.

    Each entry has ``file`` (the file name on the host), ``source`` (the JSON
    text) and optionally ``origin`` (for messages), ``datasource`` (uid for its
    PromQL inputs, default ``datasource``), ``datasources`` (input name ->
    uid), ``inputs`` (constant input name -> value) and ``uid``. File names
    and dashboard uids must be unique: Grafana keeps one dashboard per uid.
    """
    files: dict[str, str] = {}
    owners: dict[str, str] = {}
    problems: list[str] = []
    for entry in entries:
        file_name = str(entry.get("file") or "")
        origin = str(entry.get("origin") or file_name or "a dashboard")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.json", file_name):
            problems.append(f"{origin}: the file name {file_name!r} must be a plain name ending in .json")
            continue
        if file_name in files:
            problems.append(f"{origin}: another dashboard is already installed as {file_name}")
            continue
        try:
            dashboard = load_dashboard(entry.get("source"), origin)
            dashboard = bind_inputs(
                dashboard,
                datasource=entry.get("datasource") or datasource,
                datasources=entry.get("datasources"),
                datasource_types=datasource_types,
                constants=entry.get("inputs"),
                name=origin,
            )
            normalise(dashboard, file_name, entry.get("uid"))
        except DashboardError as error:
            problems.append(str(error))
            continue
        uid = dashboard["uid"]
        if uid in owners:
            problems.append(f"{origin} and {owners[uid]} both have the uid {uid!r}; give one another uid")
            continue
        owners[uid] = origin
        files[file_name] = render(dashboard)
    if problems:
        raise DashboardError("; ".join(problems))
    return files
