# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the vmauth role and of vmauth's clients.

The logic lives in plugin_utils/vmauth.py; these wrappers only turn its errors
into AnsibleFilterError so a play fails with the message.
"""

from __future__ import annotations

from typing import Any, Callable

from ansible_collections.vmstack.monitoring.plugins.plugin_utils import vmauth
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.filter_errors import failing_as_filter_error


class FilterModule:
    """vmstack.monitoring vmauth filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "vmauth_config": failing_as_filter_error(vmauth.vmauth_config),
            "vmauth_findings": failing_as_filter_error(vmauth.findings),
            "vmauth_client_flags": failing_as_filter_error(vmauth.client_flags),
            "vmauth_check_command": failing_as_filter_error(vmauth.check_command),
        }
