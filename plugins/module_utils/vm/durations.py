# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Durations as VictoriaMetrics reads them in scrape configs.

VictoriaMetrics does not use Go's time.ParseDuration here but the MetricsQL
duration syntax: a bare number is seconds, otherwise a run of
``<number><unit>`` parts with units ms, s, m, h, d, w, y and i (i is "one
step", which is zero in a scrape config; newer releases also take
Grafana's ``$__interval`` as a last part, zero too).  Once a part is
negative, the following parts are subtracted too (``1h-5m`` is 55 minutes).
"""

from __future__ import annotations

import re

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.goyaml import parse_go_float
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import Version, supports

# One <number><unit> part; the unit is checked separately because the
# accepted letters depend on the version.
_PART = re.compile(r"(-?\d+(?:\.\d+)?)([a-zA-Z]{1,2})")

_UNIT_SECONDS = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
    "y": 365 * 86400.0,
    "i": 0.0,
}


class DurationError(ValueError):
    """The text is not a duration for this version."""


class DurationTooBigError(DurationError):
    """The text is a duration, but beyond what this version accepts."""


def _unit_of(letters: str, version: Version) -> str | None:
    """Return the canonical unit for the letters after a number, or None."""
    if not supports(version, "duration_upper_case_units"):
        if letters == "ms":
            return "ms"
        first = letters[0]
        return first if first in _UNIT_SECONDS else None
    lowered = letters.lower()
    if lowered == "ms":
        return "ms"
    if lowered[0] == "m":
        # "Mi"/"MB" are byte sizes and a capital M means mega, not minutes.
        if len(lowered) == 2 and lowered[1] in "ib":
            return None
        return "m" if letters[0] == "m" else None
    return lowered[0] if lowered[0] in _UNIT_SECONDS else None


# Grafana's interval variable: a duration part of its own (zero here, as
# there is no step), and only as the last part.
_GRAFANA_INTERVAL = "$__interval"
# The binary sums the parts in float64 milliseconds and, before
# "duration_truncates_too_big", refused a sum beyond int64.
_INT64_MAX_MS = float(2 ** 63)


def _scan_part(text: str, version: Version) -> tuple[float, int] | None:
    """Read one <number><unit> part at the start of text: (seconds, length)."""
    if text == _GRAFANA_INTERVAL and supports(version, "duration_grafana_interval"):
        return 0.0, len(text)
    match = _PART.match(text)
    if not match:
        return None
    number, letters = match.groups()
    unit = _unit_of(letters, version)
    if unit is None:
        return None
    length = len(number) + len(unit)
    return float(number) * _UNIT_SECONDS[unit], length


def parse_vm_duration(text: str, version: Version) -> float:
    """Return the duration in seconds or raise DurationError."""
    if text == "":
        raise DurationError("duration cannot be empty")
    try_plain_number = True
    if supports(version, "duration_rejects_inf_nan"):
        try_plain_number = text[-1].isdigit() or text[-1] == "."
    if try_plain_number:
        value = parse_go_float(text)
        if value is not None:
            return value
    total = 0.0
    negative_seen = False
    rest = text
    while rest:
        part = _scan_part(rest, version)
        if part is None:
            raise DurationError(f"cannot parse duration {rest!r}")
        seconds, length = part
        rest = rest[length:]
        if negative_seen and seconds > 0:
            seconds = -seconds
        if seconds < 0:
            negative_seen = True
        total += seconds
    if abs(total) * 1000 > _INT64_MAX_MS and not supports(version, "duration_truncates_too_big"):
        raise DurationTooBigError(f"too big duration {total * 1000:.0f}ms")
    return total
