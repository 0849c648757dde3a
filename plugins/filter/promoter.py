# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the promoter relay: its config file, and Alertmanager's webhooks to it.

The logic lives in plugin_utils/promoter.py, imported when a filter is called
(plugin_utils/filter_errors.py says why).
"""

from __future__ import annotations

from typing import Any, Callable

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.filter_errors import imported_filter


class FilterModule:
    """vmstack.monitoring promoter filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "promoter_config": imported_filter("plugin_utils.promoter", "build_config"),
            "promoter_config_problems": imported_filter("plugin_utils.promoter", "config_problems"),
            "promoter_webhooks": imported_filter("plugin_utils.promoter", "expand_webhooks"),
            "promoter_webhook_problems": imported_filter("plugin_utils.promoter", "reference_problems"),
        }
