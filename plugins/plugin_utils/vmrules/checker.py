# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Checks vmalert rule files on the controller, before they reach a host.

`validate_rule_file` reports two kinds of findings:

* errors: what vmalert itself rejects at start or reload (unknown keys, both or
  neither of alert/record, an empty expr, bad durations, templates that do not
  parse, identical duplicate rules, duplicate group names);
* warnings: what vmalert accepts but is almost always a mistake (an alert with
  no `severity` label, `security:` written for `severity:`, a key given twice,
  `for:` on a recording rule, ...).

The keys, template functions and template variables vmalert knows depend on
its version; the tables below were read from vmalert's sources at each release
tag (app/vmalert/config, app/vmalert/templates, app/vmalert/notifier).

Not checked here: the PromQL/MetricsQL of `expr` (run `vmalert -dryRun` or
`promtool check rules` for that) and anything only known at evaluation time.
"""


from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from typing import Optional

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.durations import parse_vm_duration
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import ERROR, WARNING
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.goyaml import is_null, line_of
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import (
    DEFAULT_VM_VERSION,
    NEWEST_KNOWN,
    Feature,
    Version,
    known_version,
    parse_version,
)
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.durations import duration_problem
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.features import (
    ALWAYS, DATASOURCE_TYPES, EVAL_OFFSET_WITH_DELAY_REFUSED, GROUP_KEYS, NEGATIVE_EVAL_OFFSET_ACCEPTED,
    NEGATIVE_GROUP_SETTINGS_REFUSED, RULE_KEYS, RULE_NAME_LABEL_REFUSED, describe, unknown_name_hint,
)
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.nodes import (
    BOOL_TAG, INT_TAG, LABEL_NAME, METRIC_NAME, MappingNode, Node, ScalarNode, SequenceNode, Where,
    int_value, is_empty, kind_name, scalar_text, yaml,
)
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.templates import template_findings

SEVERITY_VALUES = ("critical", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One problem found in a rule file."""

    severity: str  # ERROR or WARNING
    group: Optional[str]
    rule: Optional[str]
    path: str  # where in the document, e.g. "groups[0].rules[2].for"
    line: Optional[int]  # 1-based YAML line, when known
    message: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line else []
        if self.group is not None:
            where.append(f"group {self.group!r}")
        if self.rule is not None:
            where.append(f"rule {self.rule!r}")
        location = ", ".join(where) or self.path or "file"
        return f"{self.severity}: {location}: {self.message}"


class _RuleFileChecker:
    """Walks the YAML node tree of one rule file and collects findings."""

    def __init__(self, version: Version) -> None:
        self.version = version
        self.findings: list[Finding] = []

    # reporting

    def report(self, severity: str, where: Where, node: Optional[Node], message: str) -> None:
        line = line_of(node) if node is not None else None
        self.findings.append(Finding(severity, where.group, where.rule, where.path, line, message))

    def error(self, where: Where, node: Optional[Node], message: str) -> None:
        self.report(ERROR, where, node, message)

    def warning(self, where: Where, node: Optional[Node], message: str) -> None:
        self.report(WARNING, where, node, message)

    # generic shapes

    def mapping_entries(self, node: MappingNode, where: Where) -> dict[str, tuple[ScalarNode, Node]]:
        """Key -> (key node, value node); vmalert keeps the last of a repeated key."""
        entries: dict[str, tuple[ScalarNode, Node]] = {}
        for key_node, value_node in node.value:
            key = scalar_text(key_node)
            if key is None:
                self.error(where, key_node, "a key must be a plain word, not a list or mapping")
                continue
            if key in entries:
                self.warning(where.child(key), key_node, f"{key!r} is given twice; vmalert uses only the last one, delete the other")
            entries[key] = (key_node, value_node)
        return entries

    def check_known_keys(
        self, entries: dict[str, tuple[ScalarNode, Node]], table: dict[str, Feature], where: Where, what: str
    ) -> None:
        for key, (key_node, _value_node) in entries.items():
            availability = table.get(key)
            if availability is None or not availability.available_in(self.version):
                self.error(where.child(key), key_node, f"unknown {what} key {key!r}: {unknown_name_hint(key, table, self.version)}")

    def expect_mapping(self, node: Node, where: Where, what: str) -> bool:
        if isinstance(node, MappingNode):
            return True
        self.error(where, node, f"{what} must be a mapping of 'key: value' lines, not {kind_name(node)}")
        return False

    def expect_list(self, node: Node, where: Where, what: str) -> bool:
        if isinstance(node, SequenceNode):
            return True
        self.error(where, node, f"{what} must be a list ('- item' lines), not {kind_name(node)}")
        return False

    def negative_setting_severity(self) -> str:
        return ERROR if NEGATIVE_GROUP_SETTINGS_REFUSED.available_in(self.version) else WARNING

    def check_duration(self, node: Node, where: Where, negative_severity: Optional[str] = WARNING) -> None:
        """negative_severity None: a negative duration is fine here."""
        if is_null(node):
            self.warning(where, node, "the duration is empty; remove the key or write e.g. '5m'")
            return
        text = scalar_text(node)
        if text is None:
            self.error(where, node, f"a duration must be a value like '5m', not {kind_name(node)}")
            return
        problem = duration_problem(text, self.version)
        if problem is None:
            return
        severity, message = problem
        if text.startswith("-"):
            if negative_severity is None:
                return
            severity = negative_severity
        self.report(severity, where, node, message)

    def check_count(self, node: Node, where: Where, negative_severity: str = ERROR) -> None:
        if not (isinstance(node, ScalarNode) and node.tag == INT_TAG):
            self.error(where, node, f"must be a whole number, not {kind_name(node)}")
        elif int_value(node) < 0:
            self.report(negative_severity, where, node, f"must be 0 or more, not {node.value}")

    def check_bool(self, node: Node, where: Where) -> None:
        if not (isinstance(node, ScalarNode) and node.tag == BOOL_TAG):
            self.error(where, node, f"must be true or false, not {kind_name(node)}")

    def check_string_map(self, node: Node, where: Where, what: str, templated: bool) -> dict[str, str]:
        """Labels and annotations: names mapped to text; returns what it could read."""
        if is_null(node) or not self.expect_mapping(node, where, what):
            return {}
        values: dict[str, str] = {}
        for name, (key_node, value_node) in self.mapping_entries(node, where).items():
            text = scalar_text(value_node)
            if text is None:
                self.error(where.child(name), value_node, f"the value of {name!r} must be text, not {kind_name(value_node)}")
                continue
            values[name] = text
            if what == "labels" and not LABEL_NAME.fullmatch(name):
                self.warning(where.child(name), key_node, f"{name!r} is not a valid label name; use letters, digits and '_'")
            if templated:
                self.check_template(text, where.child(name), value_node)
        return values

    def check_template(self, text: str, where: Where, node: Node) -> None:
        for severity, message in template_findings(text, self.version):
            self.report(severity, where, node, f"template: {message}")

    # the document

    def check_document(self, root: Node) -> None:
        where = Where("")
        if is_null(root):
            self.warning(where, root, "the file has no groups; vmalert loads nothing from it")
            return
        if not self.expect_mapping(root, where, "a rule file"):
            return
        entries = self.mapping_entries(root, where)
        self.check_known_keys(entries, {"groups": ALWAYS}, where, "top-level")
        if "groups" not in entries:
            self.warning(where, root, "the file has no 'groups:' list; vmalert loads nothing from it")
            return
        groups_node = entries["groups"][1]
        if self.expect_list(groups_node, Where("groups"), "groups"):
            self.check_groups(groups_node)

    def check_groups(self, groups_node: SequenceNode) -> None:
        first_line_of_group: dict[str, int] = {}
        for index, group_node in enumerate(groups_node.value):
            where = Where(f"groups[{index}]")
            if not self.expect_mapping(group_node, where, "a group"):
                continue
            name = self.check_group(group_node, where)
            if name is None:
                continue
            if name in first_line_of_group:
                self.error(
                    Where(where.path, name), group_node,
                    f"group name {name!r} is already used on line {first_line_of_group[name]}; give each group its own name",
                )
            else:
                first_line_of_group[name] = line_of(group_node)

    def check_group(self, node: MappingNode, where: Where) -> Optional[str]:
        entries = self.mapping_entries(node, where)
        name = self.check_group_name(entries, node, where)
        where = Where(where.path, name)
        self.check_known_keys(entries, GROUP_KEYS, where, "group")
        group_labels = self.check_group_settings(entries, where)
        if "rules" not in entries or is_empty(entries["rules"][1]):
            self.warning(where, node, "the group has no rules; add a 'rules:' list or delete the group")
        elif self.expect_list(entries["rules"][1], where.child("rules"), "rules"):
            self.check_rules(entries["rules"][1], where, group_labels)
        return name

    def check_group_name(self, entries: dict[str, tuple[ScalarNode, Node]], node: MappingNode, where: Where) -> Optional[str]:
        name = scalar_text(entries["name"][1]) if "name" in entries else None
        if not name:
            self.error(where.child("name"), node, "every group needs a 'name:'; add one")
            return None
        return name

    def check_group_settings(self, entries: dict[str, tuple[ScalarNode, Node]], where: Where) -> dict[str, str]:
        """Checks the group's own keys; returns the labels it adds to every rule."""
        negative_severity = self.negative_setting_severity()
        for key in ("interval", "eval_offset", "eval_delay"):
            if key in entries:
                negative_ok = key == "eval_offset" and NEGATIVE_EVAL_OFFSET_ACCEPTED.available_in(self.version)
                self.check_duration(entries[key][1], where.child(key), None if negative_ok else negative_severity)
        if "eval_offset" in entries and GROUP_KEYS["eval_offset"].available_in(self.version):
            self.check_eval_offset(entries, where)
        for key in ("limit", "concurrency"):
            if key in entries:
                self.check_count(entries[key][1], where.child(key), negative_severity)
        for key in ("eval_alignment", "debug"):
            if key in entries:
                self.check_bool(entries[key][1], where.child(key))
        if "type" in entries:
            self.check_datasource_type(entries["type"][1], where.child("type"))
        group_labels: dict[str, str] = {}
        if "labels" in entries:
            group_labels = self.check_string_map(entries["labels"][1], where.child("labels"), "labels", templated=False)
        if "params" in entries:
            self.check_params(entries["params"][1], where.child("params"))
        for key in ("headers", "notifier_headers"):
            if key in entries:
                self.check_headers(entries[key][1], where.child(key))
        return group_labels

    def check_eval_offset(self, entries: dict[str, tuple[ScalarNode, Node]], where: Where) -> None:
        """eval_offset must fit in the group's own interval, and excludes eval_delay."""
        offset_node = entries["eval_offset"][1]
        if "eval_delay" in entries and EVAL_OFFSET_WITH_DELAY_REFUSED.available_in(self.version):
            self.error(where.child("eval_delay"), entries["eval_delay"][1],
                       "eval_offset cannot be used with eval_delay; keep one of them")
        offset = self.duration_seconds(offset_node)
        interval = self.duration_seconds(entries["interval"][1]) if "interval" in entries else 0.0
        if offset is None or interval is None:
            return  # already reported, or not a duration vmalert could compare
        if NEGATIVE_EVAL_OFFSET_ACCEPTED.available_in(self.version):
            offset = abs(offset)
        if offset > interval:
            own = "" if "interval" in entries else " (the group has no interval: of its own, and " \
                "-evaluationInterval does not count here)"
            self.error(where.child("eval_offset"), offset_node,
                       f"eval_offset {scalar_text(offset_node)!r} is longer than the group's interval{own}; "
                       "set the group's interval: to at least the offset, or shorten the offset")

    def duration_seconds(self, node: Node) -> Optional[float]:
        """A duration's value in seconds as vmalert reads it, or None when it is not one."""
        text = scalar_text(node)
        problem = duration_problem(text, self.version) if text else (ERROR, "")
        if problem is not None and problem[0] == ERROR:
            return None
        return parse_vm_duration(text, self.version)

    def check_datasource_type(self, node: Node, where: Where) -> None:
        text = scalar_text(node)
        if text == "":
            return  # vmalert falls back to prometheus
        availability = DATASOURCE_TYPES.get(text or "")
        if availability is None or not availability.available_in(self.version):
            hint = unknown_name_hint(text or "", DATASOURCE_TYPES, self.version)
            self.error(where, node, f"unknown datasource type {kind_name(node)}: {hint}")

    def check_params(self, node: Node, where: Where) -> None:
        if is_null(node) or not self.expect_mapping(node, where, "params"):
            return
        for name, (_key_node, value_node) in self.mapping_entries(node, where).items():
            is_text_list = isinstance(value_node, SequenceNode) and all(
                scalar_text(item) is not None for item in value_node.value
            )
            if not is_text_list:
                self.error(where.child(name), value_node, f"each param holds a list of values; write '{name}: [\"value\"]'")

    def check_headers(self, node: Node, where: Where) -> None:
        if is_null(node) or not self.expect_list(node, where, "headers"):
            return
        for index, item in enumerate(node.value):
            text = scalar_text(item)
            if text is None:
                self.error(where.child(f"[{index}]"), item, "write each header as one quoted string: - 'Name: value'")
            elif text and ":" not in text:
                self.error(where.child(f"[{index}]"), item, f"header {text!r} has no ':'; write it as 'Name: value'")

    # rules

    def check_rules(self, rules_node: SequenceNode, group_where: Where, group_labels: dict[str, str]) -> None:
        seen: dict[tuple[str, str], list[tuple[str, dict[str, str], int]]] = {}
        for index, rule_node in enumerate(rules_node.value):
            where = group_where.child(f"rules[{index}]")
            if not self.expect_mapping(rule_node, where, "a rule"):
                continue
            identity = self.check_rule(rule_node, where, group_labels)
            if identity is not None:
                self.check_duplicate_rule(identity, seen, where, rule_node)

    def check_rule(
        self, node: MappingNode, where: Where, group_labels: dict[str, str]
    ) -> Optional[tuple[str, str, str, dict[str, str]]]:
        """Checks one rule; returns (kind, name, expr, labels) when it has a name."""
        entries = self.mapping_entries(node, where)
        kind, name = self.check_rule_kind(entries, node, where)
        where = Where(where.path, where.group, name)
        self.check_known_keys(entries, RULE_KEYS, where, "rule")
        expr = self.check_expr(entries, node, where)
        labels = self.check_rule_maps(entries, where, kind)
        self.check_rule_settings(entries, where, kind)
        if kind == "alert":
            self.check_severity_label({**group_labels, **labels}, entries, node, where)
        if kind == "record" and name and not METRIC_NAME.fullmatch(name):
            self.warning(where.child("record"), entries["record"][1], f"{name!r} is not a valid metric name; use letters, digits, '_' and ':'")
        if name is None:
            return None
        return kind, name, expr, labels

    def check_rule_kind(
        self, entries: dict[str, tuple[ScalarNode, Node]], node: MappingNode, where: Where
    ) -> tuple[str, Optional[str]]:
        alert = scalar_text(entries["alert"][1]) if "alert" in entries else None
        record = scalar_text(entries["record"][1]) if "record" in entries else None
        if alert and record:
            self.error(where, node, "a rule has either 'alert:' or 'record:', not both; split it into two rules")
            return "alert", alert
        if not alert and not record:
            self.error(where, node, "a rule needs 'alert: AlertName' or 'record: level:metric:operations'")
            return "alert", None
        return ("alert", alert) if alert else ("record", record)

    def check_expr(self, entries: dict[str, tuple[ScalarNode, Node]], node: MappingNode, where: Where) -> str:
        expr = scalar_text(entries["expr"][1]) if "expr" in entries else None
        if expr is None and "expr" in entries:
            self.error(where.child("expr"), entries["expr"][1], "'expr' must be a query text, not a list or mapping")
            return ""
        if not (expr or "").strip():
            self.error(where.child("expr"), node, "the rule has no 'expr:'; write the query it evaluates")
            return ""
        return expr or ""

    def check_rule_maps(self, entries: dict[str, tuple[ScalarNode, Node]], where: Where, kind: str) -> dict[str, str]:
        labels: dict[str, str] = {}
        if "labels" in entries:
            labels = self.check_string_map(entries["labels"][1], where.child("labels"), "labels", templated=True)
            if "__name__" in labels:
                self.check_name_label(entries["labels"][1], where.child("labels").child("__name__"))
        if "annotations" in entries:
            self.check_string_map(entries["annotations"][1], where.child("annotations"), "annotations", templated=True)
            if kind == "record":
                self.warning(where.child("annotations"), entries["annotations"][0], "recording rules do not use annotations; remove them")
        return labels

    def check_name_label(self, labels_node: MappingNode, where: Where) -> None:
        severity = ERROR if RULE_NAME_LABEL_REFUSED.available_in(self.version) else WARNING
        self.report(severity, where, labels_node, f"a rule label named __name__ is refused by "
                    f"{describe(RULE_NAME_LABEL_REFUSED)} (it would rename the series); delete it, and name "
                    "a recorded series with 'record:'")

    def check_rule_settings(self, entries: dict[str, tuple[ScalarNode, Node]], where: Where, kind: str) -> None:
        for key in ("for", "keep_firing_for"):
            if key not in entries:
                continue
            self.check_duration(entries[key][1], where.child(key))
            if kind == "record":
                self.warning(where.child(key), entries[key][0], f"recording rules ignore '{key}:'; remove it")
        if "debug" in entries:
            self.check_bool(entries["debug"][1], where.child("debug"))
        if "update_entries_limit" in entries:
            self.check_count(entries["update_entries_limit"][1], where.child("update_entries_limit"))

    def check_severity_label(
        self, labels: dict[str, str], entries: dict[str, tuple[ScalarNode, Node]], node: MappingNode, where: Where
    ) -> None:
        where = where.child("labels")
        label_node = entries["labels"][1] if "labels" in entries else node
        severity = labels.get("severity")
        if severity is None:
            self.warning(where, label_node, self.missing_severity_message(labels))
        elif "{{" not in severity and severity not in SEVERITY_VALUES:
            self.warning(where.child("severity"), label_node, f"severity {severity!r} is not one of {', '.join(SEVERITY_VALUES)}; use one of those")

    @staticmethod
    def missing_severity_message(labels: dict[str, str]) -> str:
        misspelt = difflib.get_close_matches("severity", list(labels), n=1, cutoff=0.7)
        if misspelt:
            value = labels[misspelt[0]]
            return f"label {misspelt[0]!r} looks like a misspelt 'severity'; write 'severity: {value}'"
        return "the alert has no 'severity' label; add 'severity: critical', 'warning' or 'info' under labels"

    def check_duplicate_rule(
        self,
        identity: tuple[str, str, str, dict[str, str]],
        seen: dict[tuple[str, str], list[tuple[str, dict[str, str], int]]],
        where: Where,
        node: MappingNode,
    ) -> None:
        kind, name, expr, labels = identity
        where = Where(where.path, where.group, name)
        earlier = seen.setdefault((kind, name), [])
        for earlier_expr, earlier_labels, earlier_line in earlier:
            if earlier_expr.strip() == expr.strip() and earlier_labels == labels:
                # vmalert hashes kind, name, expr and labels, and refuses two equal hashes.
                self.error(where, node, f"this {kind} repeats the one on line {earlier_line} exactly; vmalert refuses the file, delete one")
                break
        else:
            if earlier:
                self.warning(
                    where, node,
                    f"another {kind} named {name!r} is on line {earlier[0][2]}; give each a distinct name unless both are meant to run",
                )
        earlier.append((expr, labels, line_of(node)))


def validate_rule_file(text: str, *, vm_version: str = DEFAULT_VM_VERSION) -> list[Finding]:
    """All findings for the text of one vmalert rule file, in file order."""
    if yaml is None:
        raise RuntimeError("validating rule files needs PyYAML (python3-yaml) on the machine that runs the check")
    asked = parse_version(vm_version)
    checker = _RuleFileChecker(known_version(asked))
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as err:
        return [_yaml_error_finding(err)]
    if checker.version != asked:
        checker.warning(Where(""), None, f"vmalert {vm_version} is newer than the newest release this check knows "
                        f"({NEWEST_KNOWN}); the file is checked as {NEWEST_KNOWN} would read it, so keys, functions "
                        "or checks added since then are not known here")
    for document in documents:
        if document is not None:
            checker.check_document(document)
    if not any(document is not None for document in documents):
        checker.warning(Where(""), None, "the file is empty; vmalert loads nothing from it")
    return sorted(checker.findings, key=lambda finding: finding.line or 0)


def _yaml_error_finding(err: yaml.YAMLError) -> Finding:
    mark = getattr(err, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(err, "problem", None) or str(err)
    return Finding(ERROR, None, None, "", line, f"not valid YAML: {problem}")


def errors_only(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.severity == ERROR]
