# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Where the rule checker's findings go, and how one reads as text or a dict.

The findings are the scrape-config validator's Finding (module_utils/vm/findings.py)
with ``group`` and ``rule`` set instead of ``job``.
"""

from __future__ import annotations

from typing import Optional

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import ERROR, WARNING, Finding
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.goyaml import line_of
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import Feature, Version
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.nodes import Node, Where


class Report:
    """The findings of one rule file so far, and the vmalert version it is checked as."""

    def __init__(self, version: Version) -> None:
        self.version = version
        self.findings: list[Finding] = []

    def has(self, feature: Feature) -> bool:
        return feature.available_in(self.version)

    def add(self, severity: str, where: Where, node: Optional[Node], message: str) -> None:
        line = line_of(node) if node is not None else None
        self.findings.append(rule_finding(severity, where, line, message))

    def error(self, where: Where, node: Optional[Node], message: str) -> None:
        self.add(ERROR, where, node, message)

    def warning(self, where: Where, node: Optional[Node], message: str) -> None:
        self.add(WARNING, where, node, message)


def rule_finding(severity: str, where: Where, line: Optional[int], message: str) -> Finding:
    return Finding(severity, None, where.path, line, message, group=where.group, rule=where.rule)


def finding_text(finding: Finding) -> str:
    """``SEVERITY: line N, group 'G', rule 'R': MESSAGE``, with only the parts that are known."""
    where = [f"line {finding.line}"] if finding.line else []
    if finding.group is not None:
        where.append(f"group {finding.group!r}")
    if finding.rule is not None:
        where.append(f"rule {finding.rule!r}")
    location = ", ".join(where) or finding.path or "file"
    return f"{finding.severity}: {location}: {finding.message}"


def finding_dict(finding: Finding) -> dict[str, object]:
    return {
        "severity": finding.severity,
        "group": finding.group,
        "rule": finding.rule,
        "path": finding.path,
        "line": finding.line,
        "message": finding.message,
    }
