# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The structure of one YAML document of a rule file: the groups list, and
each group's name, keys and rules."""

from __future__ import annotations

from typing import Optional

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.goyaml import is_null
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.duplicates import check_duplicate_group
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.features import ALWAYS, GROUP_KEYS
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.group_settings import check_group_settings
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.nodes import MappingNode, Node, SequenceNode, Where, is_empty, scalar_text
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.report import Report
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.rules import check_rules
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.shapes import (
    Entries, check_known_keys, expect_list, expect_mapping, mapping_entries,
)


def check_document(report: Report, root: Node) -> None:
    where = Where("")
    if is_null(root):
        report.warning(where, root, "the file has no groups; vmalert loads nothing from it")
        return
    if not expect_mapping(report, root, where, "a rule file"):
        return
    entries = mapping_entries(report, root, where)
    check_known_keys(report, entries, {"groups": ALWAYS}, where, "top-level")
    if "groups" not in entries:
        report.warning(where, root, "the file has no 'groups:' list; vmalert loads nothing from it")
        return
    groups_node = entries["groups"][1]
    if expect_list(report, groups_node, Where("groups"), "groups"):
        check_groups(report, groups_node)


def check_groups(report: Report, groups_node: SequenceNode) -> None:
    first_line_of_group: dict[str, int] = {}
    for index, group_node in enumerate(groups_node.value):
        where = Where(f"groups[{index}]")
        if not expect_mapping(report, group_node, where, "a group"):
            continue
        name = check_group(report, group_node, where)
        if name is not None:
            check_duplicate_group(report, name, first_line_of_group, where, group_node)


def check_group(report: Report, node: MappingNode, where: Where) -> Optional[str]:
    """Checks one group and its rules; returns its name when it has one."""
    entries = mapping_entries(report, node, where)
    name = check_group_name(report, entries, node, where)
    where = Where(where.path, name)
    check_known_keys(report, entries, GROUP_KEYS, where, "group")
    group_labels = check_group_settings(report, entries, where)
    if "rules" not in entries or is_empty(entries["rules"][1]):
        report.warning(where, node, "the group has no rules; add a 'rules:' list or delete the group")
    elif expect_list(report, entries["rules"][1], where.child("rules"), "rules"):
        check_rules(report, entries["rules"][1], where, group_labels)
    return name


def check_group_name(report: Report, entries: Entries, node: MappingNode, where: Where) -> Optional[str]:
    name = scalar_text(entries["name"][1]) if "name" in entries else None
    if not name:
        report.error(where.child("name"), node, "every group needs a 'name:'; add one")
        return None
    return name
