# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""What each vmalert version knows: rule-file keys, datasource types, template names.

The tables were read from vmalert's sources at each release tag
(app/vmalert/config, app/vmalert/templates, app/vmalert/notifier).
"""

from __future__ import annotations

import difflib

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import Feature, Version


def _since(*releases: str) -> Feature:
    """A feature from the first release of each line that got it: backports first, mainline last."""
    *backports, mainline = releases
    return Feature(mainline, {".".join(release.split(".")[:2]): release for release in backports})


def describe(feature: Feature) -> str:
    if feature.until is not None:
        return f"vmalert before {feature.until}"
    return f"vmalert {feature.since} or later"


ALWAYS = Feature("0.0.0")
GROUP_KEYS: dict[str, Feature] = {
    "name": ALWAYS,
    "rules": ALWAYS,
    "interval": ALWAYS,
    "concurrency": ALWAYS,
    "type": ALWAYS,
    "labels": _since("1.65.0"),
    "params": _since("1.70.0"),
    "limit": _since("1.78.0"),
    "extra_filter_labels": Feature("0.0.0", until="1.79.0"),
    "headers": _since("1.80.0"),
    "notifier_headers": _since("1.91.0"),
    "eval_offset": _since("1.94.0"),
    "eval_delay": _since("1.95.0"),
    "eval_alignment": _since("1.95.0"),
    "debug": _since("1.102.20", "1.110.7", "1.117.0"),
}

RULE_KEYS: dict[str, Feature] = {
    "alert": ALWAYS,
    "record": ALWAYS,
    "expr": ALWAYS,
    "for": ALWAYS,
    "labels": ALWAYS,
    "annotations": ALWAYS,
    "debug": _since("1.82.0"),
    "update_entries_limit": _since("1.86.0"),
    "keep_firing_for": _since("1.92.0"),
}

# Since this release vmalert refuses negative group interval, eval_offset,
# limit and concurrency; older releases accept them silently.
NEGATIVE_GROUP_SETTINGS_REFUSED = _since("1.94.0")
# eval_offset may be negative (counted back from the end of the interval);
# its absolute value must still not exceed the group's interval.
NEGATIVE_EVAL_OFFSET_ACCEPTED = _since("1.122.17", "1.136.2", "1.138.0")
# A group takes eval_offset or eval_delay, not both.
EVAL_OFFSET_WITH_DELAY_REFUSED = _since("1.102.16", "1.110.3", "1.113.0")
# A rule label named __name__ is refused (it would rename the series).
RULE_NAME_LABEL_REFUSED = _since("1.122.20", "1.136.5", "1.141.0")

DATASOURCE_TYPES: dict[str, Feature] = {
    "prometheus": ALWAYS,
    "graphite": ALWAYS,
    "vlogs": _since("1.97.11", "1.102.6", "1.106.0"),
}

# Go's text/template builtins, available in every version.
GO_TEMPLATE_FUNCTIONS = (
    "and", "call", "eq", "ge", "gt", "html", "index", "js", "le", "len", "lt",
    "ne", "not", "or", "print", "printf", "println", "slice", "urlquery",
)

VMALERT_BASE_FUNCTIONS = (
    "args", "crlfEscape", "externalURL", "first", "humanize", "humanize1024",
    "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "label",
    "match", "parseDuration", "pathEscape", "pathPrefix", "query", "queryEscape",
    "quotesEscape", "reReplaceAll", "safeHtml", "sortByLabel", "stripPort",
    "title", "toLower", "toUpper", "value",
)

TEMPLATE_FUNCTIONS: dict[str, Feature] = {
    **{name: ALWAYS for name in GO_TEMPLATE_FUNCTIONS + VMALERT_BASE_FUNCTIONS},
    **{name: _since("1.79.5", "1.83.0") for name in ("htmlEscape", "jsonEscape", "stripDomain", "strvalue")},
    "toTime": _since("1.81.0"),
    "parseDurationTime": _since("1.81.0"),
    "now": _since("1.110.22", "1.122.7", "1.129.0"),
    "formatTime": _since("1.122.22", "1.136.8", "1.143.0"),
}

# vmalert prepends `{{ $value := .Value }}` and the like to every template.
TEMPLATE_VARIABLES: dict[str, Feature] = {
    "$": ALWAYS,
    "$value": ALWAYS,
    "$labels": ALWAYS,
    "$expr": ALWAYS,
    "$externalLabels": ALWAYS,
    "$externalURL": ALWAYS,
    "$alertID": _since("1.81.0"),
    "$groupID": _since("1.81.0"),
    "$activeAt": _since("1.81.0"),
    "$for": _since("1.85.1"),
    "$type": _since("1.102.20", "1.110.7", "1.117.0"),
    "$isPartial": _since("1.110.28", "1.122.13", "1.134.0"),
    "$interval": _since("1.136.15", "1.148.1", "1.149.0"),
}


def names_known_in(table: dict[str, Feature], version: Version) -> list[str]:
    return sorted(name for name, availability in table.items() if availability.available_in(version))


def unknown_name_hint(name: str, table: dict[str, Feature], version: Version) -> str:
    """Says what to write instead of a name `version` does not know."""
    if name in table:
        return f"it needs {describe(table[name])}; raise vm_version or remove it"
    close = difflib.get_close_matches(name, names_known_in(table, version), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "known: " + ", ".join(names_known_in(table, version))
