# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The shapes every part of a rule file is checked against: mappings, lists,
known keys, counts, booleans, and the label and annotation maps."""

from __future__ import annotations

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import ERROR
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.goyaml import is_null
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import Feature
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.features import unknown_name_hint
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.nodes import (
    BOOL_TAG, INT_TAG, LABEL_NAME, MappingNode, Node, ScalarNode, SequenceNode, Where, int_value, kind_name, scalar_text,
)
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.report import Report
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.templates import template_findings

# A mapping's keys, each with its key node and value node.
Entries = dict[str, tuple[ScalarNode, Node]]


def mapping_entries(report: Report, node: MappingNode, where: Where) -> Entries:
    """Key -> (key node, value node); vmalert keeps the last of a repeated key."""
    entries: Entries = {}
    for key_node, value_node in node.value:
        key = scalar_text(key_node)
        if key is None:
            report.error(where, key_node, "a key must be a plain word, not a list or mapping")
            continue
        if key in entries:
            report.warning(where.child(key), key_node, f"{key!r} is given twice; vmalert uses only the last one, delete the other")
        entries[key] = (key_node, value_node)
    return entries


def check_known_keys(report: Report, entries: Entries, table: dict[str, Feature], where: Where, what: str) -> None:
    for key, (key_node, _value_node) in entries.items():
        availability = table.get(key)
        if availability is None or not report.has(availability):
            report.error(where.child(key), key_node, f"unknown {what} key {key!r}: {unknown_name_hint(key, table, report.version)}")


def expect_mapping(report: Report, node: Node, where: Where, what: str) -> bool:
    if isinstance(node, MappingNode):
        return True
    report.error(where, node, f"{what} must be a mapping of 'key: value' lines, not {kind_name(node)}")
    return False


def expect_list(report: Report, node: Node, where: Where, what: str) -> bool:
    if isinstance(node, SequenceNode):
        return True
    report.error(where, node, f"{what} must be a list ('- item' lines), not {kind_name(node)}")
    return False


def check_count(report: Report, node: Node, where: Where, negative_severity: str = ERROR) -> None:
    if not (isinstance(node, ScalarNode) and node.tag == INT_TAG):
        report.error(where, node, f"must be a whole number, not {kind_name(node)}")
    elif int_value(node) < 0:
        report.add(negative_severity, where, node, f"must be 0 or more, not {node.value}")


def check_bool(report: Report, node: Node, where: Where) -> None:
    if not (isinstance(node, ScalarNode) and node.tag == BOOL_TAG):
        report.error(where, node, f"must be true or false, not {kind_name(node)}")


def check_string_map(report: Report, node: Node, where: Where, what: str, templated: bool) -> dict[str, str]:
    """Labels and annotations: names mapped to text; returns what it could read."""
    if is_null(node) or not expect_mapping(report, node, where, what):
        return {}
    values: dict[str, str] = {}
    for name, (key_node, value_node) in mapping_entries(report, node, where).items():
        text = scalar_text(value_node)
        if text is None:
            report.error(where.child(name), value_node, f"the value of {name!r} must be text, not {kind_name(value_node)}")
            continue
        values[name] = text
        if what == "labels" and not LABEL_NAME.fullmatch(name):
            report.warning(where.child(name), key_node, f"{name!r} is not a valid label name; use letters, digits and '_'")
        if templated:
            check_template(report, text, where.child(name), value_node)
    return values


def check_template(report: Report, text: str, where: Where, node: Node) -> None:
    for severity, message in template_findings(text, report.version):
        report.add(severity, where, node, f"template: {message}")
