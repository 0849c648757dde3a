# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""What is wrong with a duration in a vmalert rule file.

vmalert reads ``for:``, ``interval:`` and the like with MetricsQL's
DurationValue, the grammar the scrape-config validator already knows
(module_utils/vm/durations.py); this adds what is legal there but a mistake
in a rule file, and checks a duration node of a rule file.
"""

from __future__ import annotations

import re
from typing import Optional

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.durations import (
    DurationError,
    DurationTooBigError,
    parse_vm_duration,
)
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import ERROR, WARNING
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.goyaml import is_null
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import DEFAULT_VM_VERSION, Version, parse_version
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.nodes import Node, Where, kind_name, scalar_text
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.report import Report

# An evaluation-step part such as 5i (the grammar has accepted the text already).
_STEP_PART = re.compile(r"\d[iI]")


def duration_problem(text: str, version: Optional[Version] = None) -> Optional[tuple[str, str]]:
    """(severity, message) when `text` is not a usable vmalert duration for `version`."""
    if text == "":
        return ERROR, "an empty duration; write e.g. '5m', '1h30m' or a number of seconds"
    try:
        parse_vm_duration(text, version or parse_version(DEFAULT_VM_VERSION))
    except DurationTooBigError as err:
        return ERROR, f"{text!r}: {err}; write e.g. '5m' or '1h30m'"
    except DurationError:
        return ERROR, (
            f"{text!r} is not a duration; write a number with a unit (ms, s, m, h, d, w, y), "
            "e.g. '5m' or '1h30m', or a bare number of seconds"
        )
    if "$__interval" in text:
        return WARNING, f"{text!r} uses $__interval, which is 0 in a rule file; write seconds or minutes, e.g. '5m'"
    if _STEP_PART.search(text):
        return WARNING, f"{text!r} counts evaluation steps ('i'), which are 0 in a rule file; write seconds or minutes, e.g. '5m'"
    if text.startswith("-"):
        return WARNING, f"{text!r} is negative; durations here must be 0 or more"
    return None


def check_duration(report: Report, node: Node, where: Where, negative_severity: Optional[str] = WARNING) -> None:
    """negative_severity None: a negative duration is fine here."""
    if is_null(node):
        report.warning(where, node, "the duration is empty; remove the key or write e.g. '5m'")
        return
    text = scalar_text(node)
    if text is None:
        report.error(where, node, f"a duration must be a value like '5m', not {kind_name(node)}")
        return
    problem = duration_problem(text, report.version)
    if problem is None:
        return
    severity, message = problem
    if text.startswith("-"):
        if negative_severity is None:
            return
        severity = negative_severity
    report.add(severity, where, node, message)


def duration_seconds(node: Node, version: Version) -> Optional[float]:
    """A duration's value in seconds as vmalert reads it, or None when it is not one."""
    text = scalar_text(node)
    problem = duration_problem(text, version) if text else (ERROR, "")
    if problem is not None and problem[0] == ERROR:
        return None
    return parse_vm_duration(text, version)
