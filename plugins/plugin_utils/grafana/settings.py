# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""What the grafana role refuses in ``grafana_ini``, and where its dashboards come from."""

from __future__ import annotations

import posixpath
from typing import Any, Mapping

# grafana.ini settings the role writes itself, by section.
MANAGED_INI_KEYS: dict[str, tuple[str, ...]] = {
    "paths": ("data", "logs", "plugins", "provisioning"),
    "server": ("http_addr", "http_port", "root_url"),
    "security": ("admin_user", "admin_password", "secret_key"),
}


def ini_conflicts(grafana_ini: Mapping[str, Any]) -> list[str]:
    """``section.key`` for each managed setting that grafana_ini sets too."""
    found = []
    for section, keys in MANAGED_INI_KEYS.items():
        settings = grafana_ini.get(section)
        if isinstance(settings, Mapping):
            found.extend(f"{section}.{key}" for key in keys if key in settings)
    return found


def _unwritable(value: Any) -> bool:
    # Grafana's ini parser takes one line per value, and a section one level deep.
    return isinstance(value, Mapping) or (isinstance(value, str) and ("\n" in value or "\r" in value))


def ini_bad_values(grafana_ini: Mapping[str, Any]) -> list[str]:
    """``section.key`` for each value Grafana's ini parser cannot take, ``section`` for a section that is no mapping."""
    found = []
    for section, settings in grafana_ini.items():
        if not isinstance(settings, Mapping):
            if _unwritable(settings):
                found.append(str(section))
            continue
        found.extend(str(section) if key is None else f"{section}.{key}"
                     for key, value in settings.items() if _unwritable(value))
    return found


def _bound(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The binding settings of a dashboard given by file or from grafana.com."""
    return {
        "datasource": spec.get("datasource", ""),
        "datasources": spec.get("datasources", {}),
        "inputs": spec.get("inputs", {}),
        "uid": spec.get("uid", ""),
    }


def dashboard_specs(
    builtin_paths: list[str],
    dashboard_files: list[Any],
    dashboards: list[Mapping[str, Any]],
    source_dir: str,
) -> list[dict[str, Any]]:
    """One entry per dashboard, with ``path``, the file to read its JSON from.

    In order: the role's built-in dashboards, ``grafana_dashboard_files``
    (a path or ``{src, file, datasource, ...}``), then ``grafana_dashboards``
    from grafana.com, downloaded to ``source_dir`` as ``<id>-<revision>.json``.
    """
    entries: list[dict[str, Any]] = [
        {"file": posixpath.basename(path), "origin": path, "path": path} for path in builtin_paths
    ]
    for item in dashboard_files:
        spec = item if isinstance(item, Mapping) else {"src": item}
        file_name = spec.get("file", posixpath.basename(spec["src"]))
        entries.append({"file": file_name, "origin": spec["src"], "path": spec["src"], **_bound(spec)})
    for item in dashboards:
        path = f"{source_dir}/{item['id']}-{item['revision']}.json"
        entries.append({
            "file": item.get("file", f"grafana-com-{item['id']}-r{item['revision']}.json"),
            "origin": f"grafana.com dashboard {item['id']} revision {item['revision']} ({path})",
            "path": path,
            **_bound(item),
        })
    return entries


def dashboard_entries(specs: list[Mapping[str, Any]], sources: list[str]) -> list[dict[str, Any]]:
    """The specs with ``source``, the text read from each ``path`` (in the same order), in its place."""
    if len(specs) != len(sources):
        raise ValueError(f"grafana dashboards: {len(specs)} dashboards but {len(sources)} files read")
    return [
        {**{key: value for key, value in spec.items() if key != "path"}, "source": source}
        for spec, source in zip(specs, sources)
    ]
