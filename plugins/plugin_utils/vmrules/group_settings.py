# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""A group's own settings: evaluation timing, limits, datasource type, labels,
params and headers."""

from __future__ import annotations

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import ERROR, WARNING
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.goyaml import is_null
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.durations import check_duration, duration_seconds
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.features import (
    DATASOURCE_TYPES, EVAL_OFFSET_WITH_DELAY_REFUSED, GROUP_KEYS, NEGATIVE_EVAL_OFFSET_ACCEPTED, NEGATIVE_GROUP_SETTINGS_REFUSED,
    unknown_name_hint,
)
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.nodes import Node, SequenceNode, Where, kind_name, scalar_text
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.report import Report
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.shapes import (
    Entries, check_bool, check_count, check_string_map, expect_list, expect_mapping, mapping_entries,
)


def check_group_settings(report: Report, entries: Entries, where: Where) -> dict[str, str]:
    """Checks the group's own keys; returns the labels it adds to every rule."""
    check_timing(report, entries, where)
    for key in ("limit", "concurrency"):
        if key in entries:
            check_count(report, entries[key][1], where.child(key), negative_setting_severity(report))
    for key in ("eval_alignment", "debug"):
        if key in entries:
            check_bool(report, entries[key][1], where.child(key))
    if "type" in entries:
        check_datasource_type(report, entries["type"][1], where.child("type"))
    group_labels: dict[str, str] = {}
    if "labels" in entries:
        group_labels = check_string_map(report, entries["labels"][1], where.child("labels"), "labels", templated=False)
    if "params" in entries:
        check_params(report, entries["params"][1], where.child("params"))
    for key in ("headers", "notifier_headers"):
        if key in entries:
            check_headers(report, entries[key][1], where.child(key))
    return group_labels


def negative_setting_severity(report: Report) -> str:
    return ERROR if report.has(NEGATIVE_GROUP_SETTINGS_REFUSED) else WARNING


def check_timing(report: Report, entries: Entries, where: Where) -> None:
    """interval, eval_offset and eval_delay, each a duration, and how they fit together."""
    negative_severity = negative_setting_severity(report)
    for key in ("interval", "eval_offset", "eval_delay"):
        if key in entries:
            negative_ok = key == "eval_offset" and report.has(NEGATIVE_EVAL_OFFSET_ACCEPTED)
            check_duration(report, entries[key][1], where.child(key), None if negative_ok else negative_severity)
    if "eval_offset" in entries and report.has(GROUP_KEYS["eval_offset"]):
        check_eval_offset(report, entries, where)


def check_eval_offset(report: Report, entries: Entries, where: Where) -> None:
    """eval_offset must fit in the group's own interval, and excludes eval_delay."""
    offset_node = entries["eval_offset"][1]
    if "eval_delay" in entries and report.has(EVAL_OFFSET_WITH_DELAY_REFUSED):
        report.error(where.child("eval_delay"), entries["eval_delay"][1], "eval_offset cannot be used with eval_delay; keep one of them")
    offset = duration_seconds(offset_node, report.version)
    interval = duration_seconds(entries["interval"][1], report.version) if "interval" in entries else 0.0
    if offset is None or interval is None:
        return  # already reported, or not a duration vmalert could compare
    if report.has(NEGATIVE_EVAL_OFFSET_ACCEPTED):
        offset = abs(offset)
    if offset > interval:
        own = "" if "interval" in entries else " (the group has no interval: of its own, and -evaluationInterval does not count here)"
        report.error(where.child("eval_offset"), offset_node,
                     f"eval_offset {scalar_text(offset_node)!r} is longer than the group's interval{own}; "
                     "set the group's interval: to at least the offset, or shorten the offset")


def check_datasource_type(report: Report, node: Node, where: Where) -> None:
    text = scalar_text(node)
    if text == "":
        return  # vmalert falls back to prometheus
    availability = DATASOURCE_TYPES.get(text or "")
    if availability is None or not report.has(availability):
        hint = unknown_name_hint(text or "", DATASOURCE_TYPES, report.version)
        report.error(where, node, f"unknown datasource type {kind_name(node)}: {hint}")


def check_params(report: Report, node: Node, where: Where) -> None:
    if is_null(node) or not expect_mapping(report, node, where, "params"):
        return
    for name, (_key_node, value_node) in mapping_entries(report, node, where).items():
        is_text_list = isinstance(value_node, SequenceNode) and all(scalar_text(item) is not None for item in value_node.value)
        if not is_text_list:
            report.error(where.child(name), value_node, f"each param holds a list of values; write '{name}: [\"value\"]'")


def check_headers(report: Report, node: Node, where: Where) -> None:
    if is_null(node) or not expect_list(report, node, where, "headers"):
        return
    for index, item in enumerate(node.value):
        text = scalar_text(item)
        if text is None:
            report.error(where.child(f"[{index}]"), item, "write each header as one quoted string: - 'Name: value'")
        elif text and ":" not in text:
            report.error(where.child(f"[{index}]"), item, f"header {text!r} has no ':'; write it as 'Name: value'")
