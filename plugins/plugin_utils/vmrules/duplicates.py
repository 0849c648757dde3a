# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Names used twice in one rule file: group names, and rules within a group."""

from __future__ import annotations

from typing import NamedTuple

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.goyaml import line_of
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.nodes import MappingNode, Where
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.report import Report


class RuleIdentity(NamedTuple):
    """What vmalert hashes to tell two rules of a group apart."""

    kind: str  # "alert" or "record"
    name: str
    expr: str
    labels: dict[str, str]


class EarlierRule(NamedTuple):
    expr: str
    labels: dict[str, str]
    line: int


# (kind, name) -> the rules of the group so far with that kind and name
SeenRules = dict[tuple[str, str], list[EarlierRule]]


def check_duplicate_group(report: Report, name: str, first_line_of_group: dict[str, int], where: Where, node: MappingNode) -> None:
    if name in first_line_of_group:
        report.error(
            Where(where.path, name), node,
            f"group name {name!r} is already used on line {first_line_of_group[name]}; give each group its own name",
        )
    else:
        first_line_of_group[name] = line_of(node)


def check_duplicate_rule(report: Report, identity: RuleIdentity, seen: SeenRules, where: Where, node: MappingNode) -> None:
    kind, name, expr, labels = identity
    where = Where(where.path, where.group, name)
    earlier = seen.setdefault((kind, name), [])
    for earlier_rule in earlier:
        if earlier_rule.expr.strip() == expr.strip() and earlier_rule.labels == labels:
            # vmalert hashes kind, name, expr and labels, and refuses two equal hashes.
            report.error(where, node, f"this {kind} repeats the one on line {earlier_rule.line} exactly; vmalert refuses the file, delete one")
            break
    else:
        if earlier:
            report.warning(
                where, node,
                f"another {kind} named {name!r} is on line {earlier[0].line}; give each a distinct name unless both are meant to run",
            )
    earlier.append(EarlierRule(expr, labels, line_of(node)))
