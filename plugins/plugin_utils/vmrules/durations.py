# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""What is wrong with a duration in a vmalert rule file.

vmalert reads ``for:``, ``interval:`` and the like with MetricsQL's
DurationValue, the grammar the scrape-config validator already knows
(module_utils/vm/durations.py); this adds what is legal there but a mistake
in a rule file.
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
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import DEFAULT_VM_VERSION, Version, parse_version

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
