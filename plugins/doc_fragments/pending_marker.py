# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    """The option of a module that writes a configuration and notes it as not yet loaded."""

    DOCUMENTATION = r"""
options:
  pending_marker:
    description:
      - When this task changes anything, this file is created (with its directory, readable by root only)
        before the task returns, as the note that the service has not loaded the new configuration yet;
        M(vmstack.monitoring.service_apply) removes it after a healthy reload or restart.
      - Not in check mode.
    type: path
"""
