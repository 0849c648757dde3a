# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Reading PyYAML nodes the way vmalert reads a rule file, and where a finding belongs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

try:
    import yaml
    from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
except ImportError:  # PyYAML is missing on this machine; validate_rule_file then says so.
    yaml = None
    MappingNode = Node = ScalarNode = SequenceNode = None  # type: ignore[misc,assignment]

NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


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
