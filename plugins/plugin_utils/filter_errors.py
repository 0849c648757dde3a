# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Shared by the collection's filter plugins: module_utils raise ValueError or
KeyError with a message for the user; a filter turns it into AnsibleFilterError
so the play fails with that message."""

from __future__ import annotations

from typing import Any, Callable

from ansible.errors import AnsibleFilterError


def failing_as_filter_error(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (ValueError, KeyError) as error:
            raise AnsibleFilterError(str(error)) from error

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper
