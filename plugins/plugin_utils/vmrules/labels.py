# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""A rule's labels and annotations: the severity label an alert needs (and
`security:` or the like written for it), and the __name__ label vmalert refuses."""

from __future__ import annotations

import difflib

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import ERROR, WARNING
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.features import RULE_NAME_LABEL_REFUSED, describe
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.nodes import MappingNode, Node, Where
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.report import Report
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.shapes import Entries, check_string_map

SEVERITY_VALUES = ("critical", "warning", "info")


def check_rule_maps(report: Report, entries: Entries, where: Where, kind: str) -> dict[str, str]:
    """Checks the rule's labels and annotations; returns its labels."""
    labels: dict[str, str] = {}
    if "labels" in entries:
        labels = check_string_map(report, entries["labels"][1], where.child("labels"), "labels", templated=True)
        if "__name__" in labels:
            check_name_label(report, entries["labels"][1], where.child("labels").child("__name__"))
    if "annotations" in entries:
        check_string_map(report, entries["annotations"][1], where.child("annotations"), "annotations", templated=True)
        if kind == "record":
            report.warning(where.child("annotations"), entries["annotations"][0], "recording rules do not use annotations; remove them")
    return labels


def check_name_label(report: Report, labels_node: Node, where: Where) -> None:
    severity = ERROR if report.has(RULE_NAME_LABEL_REFUSED) else WARNING
    report.add(severity, where, labels_node, f"a rule label named __name__ is refused by {describe(RULE_NAME_LABEL_REFUSED)} "
               "(it would rename the series); delete it, and name a recorded series with 'record:'")


def check_severity_label(report: Report, labels: dict[str, str], entries: Entries, node: MappingNode, where: Where) -> None:
    """`labels` are the group's and the alert's together, as vmalert sends them."""
    where = where.child("labels")
    label_node = entries["labels"][1] if "labels" in entries else node
    severity = labels.get("severity")
    if severity is None:
        report.warning(where, label_node, missing_severity_message(labels))
    elif "{{" not in severity and severity not in SEVERITY_VALUES:
        report.warning(where.child("severity"), label_node, f"severity {severity!r} is not one of {', '.join(SEVERITY_VALUES)}; use one of those")


def missing_severity_message(labels: dict[str, str]) -> str:
    misspelt = difflib.get_close_matches("severity", list(labels), n=1, cutoff=0.7)
    if misspelt:
        value = labels[misspelt[0]]
        return f"label {misspelt[0]!r} looks like a misspelt 'severity'; write 'severity: {value}'"
    return "the alert has no 'severity' label; add 'severity: critical', 'warning' or 'info' under labels"
