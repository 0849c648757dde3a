# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The rules of one group: alert or record, expr, labels and annotations,
`for:` and `keep_firing_for:`, and rules repeated within the group."""

from __future__ import annotations

from typing import Optional

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.duplicates import RuleIdentity, SeenRules, check_duplicate_rule
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.durations import check_duration
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.features import RULE_KEYS
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.labels import check_rule_maps, check_severity_label
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.nodes import METRIC_NAME, MappingNode, SequenceNode, Where, scalar_text
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.report import Report
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.shapes import (
    Entries, check_bool, check_count, check_known_keys, expect_mapping, mapping_entries,
)


def check_rules(report: Report, rules_node: SequenceNode, group_where: Where, group_labels: dict[str, str]) -> None:
    seen: SeenRules = {}
    for index, rule_node in enumerate(rules_node.value):
        where = group_where.child(f"rules[{index}]")
        if not expect_mapping(report, rule_node, where, "a rule"):
            continue
        identity = check_rule(report, rule_node, where, group_labels)
        if identity is not None:
            check_duplicate_rule(report, identity, seen, where, rule_node)


def check_rule(report: Report, node: MappingNode, where: Where, group_labels: dict[str, str]) -> Optional[RuleIdentity]:
    """Checks one rule; returns what identifies it when it has a name."""
    entries = mapping_entries(report, node, where)
    kind, name = check_rule_kind(report, entries, node, where)
    where = Where(where.path, where.group, name)
    check_known_keys(report, entries, RULE_KEYS, where, "rule")
    expr = check_expr(report, entries, node, where)
    labels = check_rule_maps(report, entries, where, kind)
    check_rule_settings(report, entries, where, kind)
    if kind == "alert":
        check_severity_label(report, {**group_labels, **labels}, entries, node, where)
    if kind == "record" and name and not METRIC_NAME.fullmatch(name):
        report.warning(where.child("record"), entries["record"][1], f"{name!r} is not a valid metric name; use letters, digits, '_' and ':'")
    if name is None:
        return None
    return RuleIdentity(kind, name, expr, labels)


def check_rule_kind(report: Report, entries: Entries, node: MappingNode, where: Where) -> tuple[str, Optional[str]]:
    """("alert" or "record", the rule's name when it has one)."""
    alert = scalar_text(entries["alert"][1]) if "alert" in entries else None
    record = scalar_text(entries["record"][1]) if "record" in entries else None
    if alert and record:
        report.error(where, node, "a rule has either 'alert:' or 'record:', not both; split it into two rules")
        return "alert", alert
    if not alert and not record:
        report.error(where, node, "a rule needs 'alert: AlertName' or 'record: level:metric:operations'")
        return "alert", None
    return ("alert", alert) if alert else ("record", record)


def check_expr(report: Report, entries: Entries, node: MappingNode, where: Where) -> str:
    """The rule's query text ("" when it has none); its PromQL/MetricsQL is left to vmalert -dryRun."""
    expr = scalar_text(entries["expr"][1]) if "expr" in entries else None
    if expr is None and "expr" in entries:
        report.error(where.child("expr"), entries["expr"][1], "'expr' must be a query text, not a list or mapping")
        return ""
    if not (expr or "").strip():
        report.error(where.child("expr"), node, "the rule has no 'expr:'; write the query it evaluates")
        return ""
    return expr or ""


def check_rule_settings(report: Report, entries: Entries, where: Where, kind: str) -> None:
    for key in ("for", "keep_firing_for"):
        if key not in entries:
            continue
        check_duration(report, entries[key][1], where.child(key))
        if kind == "record":
            report.warning(where.child(key), entries[key][0], f"recording rules ignore '{key}:'; remove it")
    if "debug" in entries:
        check_bool(report, entries["debug"][1], where.child("debug"))
    if "update_entries_limit" in entries:
        check_count(report, entries["update_entries_limit"][1], where.child("update_entries_limit"))
