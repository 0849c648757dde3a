# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Which files a run changed, and where their previous versions are, from the
registered results of copy and template tasks run with ``backup: true``."""

from __future__ import annotations

from typing import Any, Mapping


def _items(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A loop registers one result per item under ``results``."""
    results = result.get("results")
    return list(results) if isinstance(results, list) else [result]


def rollback_files(results: list[Mapping[str, Any] | None]) -> list[dict[str, str]]:
    """``[{path, backup}]`` for every changed file; ``backup`` is empty when the
    file is new (a rollback removes it then). Skipped or unchanged ones are left out."""
    files: list[dict[str, str]] = []
    for result in results:
        for item in _items(result or {}):
            if item.get("changed") and item.get("dest"):
                files.append({"path": str(item["dest"]), "backup": str(item.get("backup_file") or "")})
    return files
