# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The datasource provisioning file of Grafana, from a list of datasources.

Grafana reads ``provisioning/datasources/*.yml`` at start: it creates or
updates each datasource listed under ``datasources`` (matched by name) and
deletes those listed under ``deleteDatasources``. A datasource that merely
disappears from the file stays in Grafana's database, so the file must name
what to delete. The previous file on the host is the memory of what was
provisioned: every name it provisioned or deleted that is no longer wanted is
listed for deletion, so removing a datasource from the variables removes it
from Grafana, and the list stays the same on the next run (no change).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

UID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class DatasourceError(ValueError):
    """A datasource list Grafana would refuse or apply wrongly."""


def _names(entries: Any) -> list[tuple[str, int]]:
    found = []
    for entry in entries or []:
        if isinstance(entry, Mapping) and entry.get("name"):
            found.append((str(entry["name"]), int(entry.get("orgId", 1) or 1)))
    return found


def provisioning_file(
    datasources: list[Mapping[str, Any]],
    default_uid: str = "",
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the provisioning document (``apiVersion``, ``deleteDatasources``, ``datasources``).

    Each datasource needs ``name``, ``uid`` and ``type``; ``access`` defaults
    to ``proxy``, ``orgId`` to 1 and ``editable`` to false. ``isDefault`` is
    true for ``default_uid`` only (Grafana refuses two defaults); an empty
    ``default_uid`` marks none. ``previous`` is the parsed file on the host.
    """
    problems: list[str] = []
    rendered: list[dict[str, Any]] = []
    names: set[tuple[str, int]] = set()
    uids: set[str] = set()
    for index, source in enumerate(datasources or []):
        if not isinstance(source, Mapping):
            problems.append(f"datasource {index} is not a dictionary")
            continue
        label = str(source.get("name") or f"datasource {index}")
        missing = [key for key in ("name", "uid", "type") if not source.get(key)]
        if missing:
            problems.append(f"{label} has no {', '.join(missing)}")
            continue
        datasource = {"access": "proxy", "editable": False, "orgId": 1}
        datasource.update(dict(source))
        datasource["isDefault"] = datasource["uid"] == default_uid
        uid = str(datasource["uid"])
        if not UID_PATTERN.match(uid):
            problems.append(f"{label}: the uid {uid!r} is not valid (1 to 40 letters, digits, '-' or '_')")
        key = (str(datasource["name"]), int(datasource["orgId"]))
        if key in names:
            problems.append(f"two datasources are named {key[0]!r}")
        if uid in uids:
            problems.append(f"two datasources have the uid {uid!r}")
        names.add(key)
        uids.add(uid)
        rendered.append(datasource)
    if default_uid and default_uid not in uids:
        problems.append(f"the default datasource uid {default_uid!r} is not among the datasources "
                        f"({', '.join(sorted(uids)) or 'none'})")
    if problems:
        raise DatasourceError("; ".join(problems))

    previous = previous if isinstance(previous, Mapping) else {}
    gone = set(_names(previous.get("datasources"))) | set(_names(previous.get("deleteDatasources")))
    document: dict[str, Any] = {"apiVersion": 1}
    deleted = sorted(gone - names)
    if deleted:
        document["deleteDatasources"] = [{"name": name, "orgId": org} for name, org in deleted]
    document["datasources"] = rendered
    return document
