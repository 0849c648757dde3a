# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Shared by the collection's filter plugins.

module_utils raise ValueError or KeyError with a message for the user; a
filter turns it into AnsibleFilterError so the play fails with that message.

A filter file imports its logic only when a filter is called. To find one
filter of a collection, Ansible imports every file in plugins/filter, in
every worker process (one per task and host), and compiles each imported
file from source: with the logic imported at the top of the filter files
that was about 400 kB of Python, 130 ms for each task that uses any
vmstack filter.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Callable

from ansible.errors import AnsibleFilterError

_PLUGINS = "ansible_collections.vmstack.monitoring.plugins"


def plugin_module(name: str) -> ModuleType:
    """A module of this collection's plugins by its path under plugins/ (e.g. plugin_utils.topology)."""
    return importlib.import_module(f"{_PLUGINS}.{name}")


def imported_filter(module: str, function: str) -> Callable[..., Any]:
    """The filter `function` of `module` (see plugin_module), imported at its first call,
    with its ValueError and KeyError turned into AnsibleFilterError."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(plugin_module(module), function)(*args, **kwargs)

    call.__name__ = function
    return failing_as_filter_error(call)


def failing_as_filter_error(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (ValueError, KeyError) as error:
            raise AnsibleFilterError(str(error)) from error

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper
