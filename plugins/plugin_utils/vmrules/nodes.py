# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Reading PyYAML nodes the way vmalert reads a rule file, and where a finding belongs.

line_of and is_null are the scrape-config validator's (module_utils/vm/goyaml.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.goyaml import YAML_PREFIX, is_null, yaml

if yaml is not None:
    from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
else:  # PyYAML is missing on this machine; validate_rule_file then says so.
    MappingNode = Node = ScalarNode = SequenceNode = None  # type: ignore[misc,assignment]

# Rule files are composed with PyYAML's SafeLoader, whose tags these are.
NULL_TAG = YAML_PREFIX + "null"
BOOL_TAG = YAML_PREFIX + "bool"
INT_TAG = YAML_PREFIX + "int"

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def is_empty(node: Node) -> bool:
    return is_null(node) or (isinstance(node, SequenceNode) and not node.value)


def scalar_text(node: Node) -> Optional[str]:
    """The text of a scalar as vmalert reads it into a string; None otherwise."""
    if not isinstance(node, ScalarNode):
        return None
    return "" if node.tag == NULL_TAG else node.value


def int_value(node: ScalarNode) -> int:
    """The number YAML means by an int scalar (it may be written 0x10, 1_000, ...)."""
    return int(yaml.SafeLoader("").construct_yaml_int(node))


def kind_name(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"{scalar_text(node)!r}"


@dataclass(frozen=True)
class Where:
    """Where a finding belongs: its document path, group and rule."""

    path: str
    group: Optional[str] = None
    rule: Optional[str] = None

    def child(self, key: str) -> "Where":
        separator = "" if key.startswith("[") or not self.path else "."
        return Where(self.path + separator + key, self.group, self.rule)
