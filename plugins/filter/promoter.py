# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the promoter relay: its config file, and Alertmanager's webhooks to it.

The logic lives in plugin_utils/promoter.py; these wrappers only turn its
errors into AnsibleFilterError so a play fails with the message.
"""

from __future__ import annotations

from typing import Any, Callable

from ansible_collections.vmstack.monitoring.plugins.plugin_utils import promoter
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.filter_errors import failing_as_filter_error


class FilterModule:
    """vmstack.monitoring promoter filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "promoter_config": failing_as_filter_error(promoter.build_config),
            "promoter_config_problems": failing_as_filter_error(promoter.config_problems),
            "promoter_webhooks": failing_as_filter_error(promoter.expand_webhooks),
            "promoter_webhook_problems": failing_as_filter_error(promoter.reference_problems),
        }
