# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the alertmanager role; the logic lives in plugin_utils/alertmanager.py."""

from __future__ import annotations

from typing import Any, Callable

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.filter_errors import imported_filter


class FilterModule:
    """vmstack.monitoring alertmanager filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"alertmanager_routing": imported_filter("plugin_utils.alertmanager", "routing")}
