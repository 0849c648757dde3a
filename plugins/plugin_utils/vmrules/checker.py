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
import re
from dataclasses import asdict, dataclass, field
from typing import Optional

try:
    import yaml
    from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
except ImportError:  # PyYAML is missing on this host; validate_rule_file then says so.
    yaml = None
    MappingNode = Node = ScalarNode = SequenceNode = None  # type: ignore[misc,assignment]

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.durations import DurationError, parse_vm_duration
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import NEWEST_KNOWN, known_version

ERROR = "error"
WARNING = "warning"

DEFAULT_VM_VERSION = "1.79.5"
SEVERITY_VALUES = ("critical", "warning", "info")

Version = tuple[int, int, int]


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


# --- what each vmalert version knows ---------------------------------------


def parse_version(text: str) -> Version:
    """'v1.79.5', '1.79.5-cluster' or '1.93' -> (1, 79, 5)."""
    core = text.strip().lstrip("v").split("-")[0]
    numbers = [int(part) for part in core.split(".") if part.isdigit()]
    if not numbers:
        raise ValueError(f"not a VictoriaMetrics version: {text!r}; write it like '1.79.5'")
    padded = (numbers + [0, 0, 0])[:3]
    return (padded[0], padded[1], padded[2])


@dataclass(frozen=True)
class Availability:
    """The vmalert releases that have a feature.

    `since` lists the first release of each line that got the feature: the
    last entry is the mainline release that introduced it, earlier entries are
    long-term-support lines (1.102.x, 1.110.x, ...) that received a backport.
    `until` is the first release without it, for removed features.
    """

    since: tuple[str, ...] = ("0.0.0",)
    until: Optional[str] = None

    def covers(self, version: Version) -> bool:
        if self.until is not None and version >= parse_version(self.until):
            return False
        if version >= parse_version(self.since[-1]):
            return True
        return any(_same_line_and_newer(version, parse_version(backport)) for backport in self.since[:-1])

    def describe(self) -> str:
        if self.until is not None:
            return f"vmalert before {self.until}"
        return f"vmalert {self.since[-1]} or later"


def _same_line_and_newer(version: Version, backport: Version) -> bool:
    return version[:2] == backport[:2] and version >= backport


ALWAYS = Availability()

GROUP_KEYS: dict[str, Availability] = {
    "name": ALWAYS,
    "rules": ALWAYS,
    "interval": ALWAYS,
    "concurrency": ALWAYS,
    "type": ALWAYS,
    "labels": Availability(("1.65.0",)),
    "params": Availability(("1.70.0",)),
    "limit": Availability(("1.78.0",)),
    "extra_filter_labels": Availability(until="1.79.0"),
    "headers": Availability(("1.80.0",)),
    "notifier_headers": Availability(("1.91.0",)),
    "eval_offset": Availability(("1.94.0",)),
    "eval_delay": Availability(("1.95.0",)),
    "eval_alignment": Availability(("1.95.0",)),
    "debug": Availability(("1.102.20", "1.110.7", "1.117.0")),
}

RULE_KEYS: dict[str, Availability] = {
    "alert": ALWAYS,
    "record": ALWAYS,
    "expr": ALWAYS,
    "for": ALWAYS,
    "labels": ALWAYS,
    "annotations": ALWAYS,
    "debug": Availability(("1.82.0",)),
    "update_entries_limit": Availability(("1.86.0",)),
    "keep_firing_for": Availability(("1.92.0",)),
}

# Since this release vmalert refuses negative group interval, eval_offset,
# limit and concurrency; older releases accept them silently.
NEGATIVE_GROUP_SETTINGS_REFUSED = Availability(("1.94.0",))
# eval_offset may be negative (counted back from the end of the interval);
# its absolute value must still not exceed the group's interval.
NEGATIVE_EVAL_OFFSET_ACCEPTED = Availability(("1.122.17", "1.136.2", "1.138.0"))
# A group takes eval_offset or eval_delay, not both.
EVAL_OFFSET_WITH_DELAY_REFUSED = Availability(("1.102.16", "1.110.3", "1.113.0"))
# A rule label named __name__ is refused (it would rename the series).
RULE_NAME_LABEL_REFUSED = Availability(("1.122.20", "1.136.5", "1.141.0"))

DATASOURCE_TYPES: dict[str, Availability] = {
    "prometheus": ALWAYS,
    "graphite": ALWAYS,
    "vlogs": Availability(("1.97.11", "1.102.6", "1.106.0")),
}

# Go's text/template builtins, available in every version.
GO_TEMPLATE_FUNCTIONS = (
    "and", "call", "eq", "ge", "gt", "html", "index", "js", "le", "len", "lt",
    "ne", "not", "or", "print", "printf", "println", "slice", "urlquery",
)

VMALERT_BASE_FUNCTIONS = (
    "args", "crlfEscape", "externalURL", "first", "humanize", "humanize1024",
    "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "label",
    "match", "parseDuration", "pathEscape", "pathPrefix", "query", "queryEscape",
    "quotesEscape", "reReplaceAll", "safeHtml", "sortByLabel", "stripPort",
    "title", "toLower", "toUpper", "value",
)

TEMPLATE_FUNCTIONS: dict[str, Availability] = {
    **{name: ALWAYS for name in GO_TEMPLATE_FUNCTIONS + VMALERT_BASE_FUNCTIONS},
    **{name: Availability(("1.79.5", "1.83.0")) for name in ("htmlEscape", "jsonEscape", "stripDomain", "strvalue")},
    "toTime": Availability(("1.81.0",)),
    "parseDurationTime": Availability(("1.81.0",)),
    "now": Availability(("1.110.22", "1.122.7", "1.129.0")),
    "formatTime": Availability(("1.122.22", "1.136.8", "1.143.0")),
}

# vmalert prepends `{{ $value := .Value }}` and the like to every template.
TEMPLATE_VARIABLES: dict[str, Availability] = {
    "$": ALWAYS,
    "$value": ALWAYS,
    "$labels": ALWAYS,
    "$expr": ALWAYS,
    "$externalLabels": ALWAYS,
    "$externalURL": ALWAYS,
    "$alertID": Availability(("1.81.0",)),
    "$groupID": Availability(("1.81.0",)),
    "$activeAt": Availability(("1.81.0",)),
    "$for": Availability(("1.85.1",)),
    "$type": Availability(("1.102.20", "1.110.7", "1.117.0")),
    "$isPartial": Availability(("1.110.28", "1.122.13", "1.134.0")),
    "$interval": Availability(("1.136.15", "1.148.1", "1.149.0")),
}


def names_known_in(table: dict[str, Availability], version: Version) -> list[str]:
    return sorted(name for name, availability in table.items() if availability.covers(version))


def unknown_name_hint(name: str, table: dict[str, Availability], version: Version) -> str:
    """Says what to write instead of a name `version` does not know."""
    if name in table:
        return f"it needs {table[name].describe()}; raise vm_version or remove it"
    close = difflib.get_close_matches(name, names_known_in(table, version), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "known: " + ", ".join(names_known_in(table, version))


# --- durations ---------------------------------------------------------------

# Durations as vmalert parses them (MetricsQL's DurationValue): a bare number of
# seconds, or one or more <number><unit> parts such as 1h30m or 1.5d.
_BARE_SECONDS = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DURATION_PART = re.compile(r"(-?)\d+(\.\d+)?(ms|s|m|h|d|w|y|i)")
_DURATION = re.compile(rf"(?:{_DURATION_PART.pattern})+")


def duration_problem(text: str) -> Optional[tuple[str, str]]:
    """(severity, message) when `text` is not a usable vmalert duration."""
    if text == "":
        return ERROR, "an empty duration; write e.g. '5m', '1h30m' or a number of seconds"
    if _BARE_SECONDS.fullmatch(text):
        return _negative_duration_problem(text)
    if not _DURATION.fullmatch(text):
        return ERROR, (
            f"{text!r} is not a duration; write a number with a unit (ms, s, m, h, d, w, y), "
            "e.g. '5m' or '1h30m', or a bare number of seconds"
        )
    if any(part.group(3) == "i" for part in _DURATION_PART.finditer(text)):
        return WARNING, f"{text!r} counts evaluation steps ('i'), which are 0 in a rule file; write seconds or minutes, e.g. '5m'"
    return _negative_duration_problem(text)


def _negative_duration_problem(text: str) -> Optional[tuple[str, str]]:
    if text.startswith("-"):
        return WARNING, f"{text!r} is negative; durations here must be 0 or more"
    return None


# --- Go templates ----------------------------------------------------------
#
# A small checker for the Go text/template syntax of labels and annotations.
# It catches what people really get wrong: an action opened with `{{` and never
# closed, an empty action, a stray `}}`, a misspelt or too-new function, an
# unknown `$variable`, unbalanced parentheses, `else`/`end`/`break` in the wrong
# place, and if/range/with/define/block opened but never closed.
#
# It does NOT catch: wrong numbers or types of function arguments, misuse of
# pipelines (e.g. `{{ $value | printf }}`), fields that do not exist (only the
# first segment of `$labels.x` is checked), `{{ template "name" }}` naming a
# template that was never defined, variable scoping (a variable declared
# inside `{{ if }}` counts as known until the end of the text), and errors that
# only happen when the template runs (a `query` that fails, a bad regexp).

_KEYWORDS_OPENING_BLOCK = ("if", "range", "with", "define", "block")
_KEYWORDS = _KEYWORDS_OPENING_BLOCK + ("else", "end", "template", "break", "continue")
_CONSTANTS = ("true", "false", "nil")

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|`[^`]*`|'(?:[^'\\\n]|\\.)*')
  | (?P<number>[+-]?(?:0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)i?)
  | (?P<declare>:=)
  | (?P<assign>=)
  | (?P<variable>\$\w*(?:\.\w+)*)
  | (?P<field>(?:\.\w+)+|\.)
  | (?P<identifier>[A-Za-z_]\w*(?:\.\w+)*)
  | (?P<punct>[|(),])
    """,
    re.VERBOSE,
)


class TemplateSyntaxError(ValueError):
    """The text is not a valid vmalert template."""


@dataclass
class _TemplateScan:
    """State while reading one template from left to right."""

    version: Version
    open_blocks: list[str] = field(default_factory=list)
    declared_variables: set[str] = field(default_factory=set)


def template_findings(text: str, version: Version) -> list[tuple[str, str]]:
    """(severity, message) for each problem in one label or annotation value."""
    problems: list[tuple[str, str]] = []
    try:
        actions, literal_text = _split_actions(text)
        _check_actions(actions, _TemplateScan(version))
    except TemplateSyntaxError as err:
        problems.append((ERROR, str(err)))
    else:
        if "}}" in literal_text:
            problems.append((WARNING, "'}}' appears without a matching '{{'; Go prints it as text. Write '{{ $labels.name }}'"))
    return problems


def _split_actions(text: str) -> tuple[list[str], str]:
    """Returns the bodies of all {{ }} actions and the text outside them."""
    actions: list[str] = []
    literal_parts: list[str] = []
    position = 0
    while True:
        start = text.find("{{", position)
        if start < 0:
            literal_parts.append(text[position:])
            return actions, "".join(literal_parts)
        literal_parts.append(text[position:start])
        end = _find_action_end(text, start + 2)
        actions.append(_strip_trim_markers(text[start + 2:end]))
        position = end + 2


def _find_action_end(text: str, position: int) -> int:
    """Index of the '}}' that closes the action starting at `position`.

    Quoted strings are skipped because they may contain '}}' themselves.
    """
    while position < len(text):
        if text.startswith("}}", position):
            return position
        if text[position] in "\"'`":
            position = _skip_quoted(text, position)
            continue
        if text.startswith("/*", position):
            position = _skip_comment(text, position)
            continue
        position += 1
    raise TemplateSyntaxError(f"an action opened with '{{{{' is never closed: {_excerpt(text)}; close it with '}}}}'")


def _skip_quoted(text: str, start: int) -> int:
    quote = text[start]
    position = start + 1
    while position < len(text):
        if text[position] == "\\" and quote != "`":
            position += 2
            continue
        if text[position] == quote:
            return position + 1
        position += 1
    raise TemplateSyntaxError(f"a string opened with {quote} is never closed: {_excerpt(text[start:])}")


def _skip_comment(text: str, start: int) -> int:
    end = text.find("*/", start + 2)
    if end < 0:
        raise TemplateSyntaxError("a comment opened with '/*' is never closed; close it with '*/}}'")
    return end + 2


def _strip_trim_markers(body: str) -> str:
    """'{{- x -}}' trims whitespace around the action; the marker is not code."""
    if body.startswith("- ") or body.startswith("-\t") or body.startswith("-\n"):
        body = body[1:]
    if body.endswith(" -") or body.endswith("\t-") or body.endswith("\n-"):
        body = body[:-1]
    return body


def _excerpt(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _check_actions(actions: list[str], scan: _TemplateScan) -> None:
    for body in actions:
        if body.strip().startswith("/*"):
            continue
        tokens = _tokenize(body)
        if not tokens:
            raise TemplateSyntaxError("an empty action '{{ }}'; put a value in it, e.g. '{{ $value }}'")
        _check_block_structure(tokens, scan)
        _check_parentheses(tokens, body)
        _check_names(tokens, scan)
    if scan.open_blocks:
        raise TemplateSyntaxError(
            f"'{{{{ {scan.open_blocks[-1]} }}}}' is never closed; add '{{{{ end }}}}' after its body"
        )


def _tokenize(body: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(body):
        match = _TOKEN.match(body, position)
        if match is None:
            raise TemplateSyntaxError(f"unexpected {body[position]!r} in action '{{{{{body}}}}}'")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group()))
        position = match.end()
    return tokens


def _check_block_structure(tokens: list[tuple[str, str]], scan: _TemplateScan) -> None:
    kind, word = tokens[0]
    if kind != "identifier" or word not in _KEYWORDS:
        return
    if word in _KEYWORDS_OPENING_BLOCK:
        scan.open_blocks.append(word)
    elif word == "else":
        _require_open_block(scan, ("if", "range", "with"), "'{{ else }}' outside if, range or with")
    elif word in ("break", "continue"):
        _require_open_block(scan, ("range",), f"'{{{{ {word} }}}}' outside range")
    elif word == "end":
        if not scan.open_blocks:
            raise TemplateSyntaxError("'{{ end }}' without an if, range, with, define or block to close; remove it")
        scan.open_blocks.pop()


def _require_open_block(scan: _TemplateScan, allowed: tuple[str, ...], message: str) -> None:
    if not any(block in allowed for block in scan.open_blocks):
        raise TemplateSyntaxError(message)


def _check_parentheses(tokens: list[tuple[str, str]], body: str) -> None:
    depth = 0
    for kind, text in tokens:
        if kind == "punct" and text == "(":
            depth += 1
        elif kind == "punct" and text == ")":
            depth -= 1
        if depth < 0:
            raise TemplateSyntaxError(f"')' without '(' in '{{{{{body}}}}}'")
    if depth > 0:
        raise TemplateSyntaxError(f"'(' never closed in '{{{{{body}}}}}'; add ')'")


def _check_names(tokens: list[tuple[str, str]], scan: _TemplateScan) -> None:
    _remember_declarations(tokens, scan)
    for kind, text in tokens:
        if kind == "identifier":
            _check_function(text.split(".")[0], scan.version)
        elif kind == "variable":
            _check_variable(text.split(".")[0], scan)


def _remember_declarations(tokens: list[tuple[str, str]], scan: _TemplateScan) -> None:
    """Variables before ':=' (also '$i, $v :=' in range) are declared here."""
    kinds = [kind for kind, _text in tokens]
    if "declare" not in kinds:
        return
    for kind, text in tokens[:kinds.index("declare")]:
        if kind == "variable":
            scan.declared_variables.add(text)


def _check_function(name: str, version: Version) -> None:
    if name in _KEYWORDS or name in _CONSTANTS:
        return
    availability = TEMPLATE_FUNCTIONS.get(name)
    if availability is not None and availability.covers(version):
        return
    raise TemplateSyntaxError(f"function {name!r} is not defined; {unknown_name_hint(name, TEMPLATE_FUNCTIONS, version)}")


def _check_variable(name: str, scan: _TemplateScan) -> None:
    if name in scan.declared_variables:
        return
    availability = TEMPLATE_VARIABLES.get(name)
    if availability is not None and availability.covers(scan.version):
        return
    raise TemplateSyntaxError(f"variable {name!r} is not defined; {unknown_name_hint(name, TEMPLATE_VARIABLES, scan.version)}")


# --- YAML nodes ----------------------------------------------------------

_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def _is_empty(node: Node) -> bool:
    return _is_null(node) or (isinstance(node, SequenceNode) and not node.value)


def _scalar_text(node: Node) -> Optional[str]:
    """The text of a scalar as vmalert reads it into a string; None otherwise."""
    if not isinstance(node, ScalarNode):
        return None
    return "" if node.tag == _NULL_TAG else node.value


def _int_value(node: ScalarNode) -> int:
    """The number YAML means by an int scalar (it may be written 0x10, 1_000, ...)."""
    return int(yaml.SafeLoader("").construct_yaml_int(node))


def _kind_name(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"{_scalar_text(node)!r}"


@dataclass(frozen=True)
class _Where:
    """Where a finding belongs: its document path, group and rule."""

    path: str
    group: Optional[str] = None
    rule: Optional[str] = None

    def child(self, key: str) -> "_Where":
        separator = "" if key.startswith("[") or not self.path else "."
        return _Where(self.path + separator + key, self.group, self.rule)


# --- the checker -----------------------------------------------------------


class _RuleFileChecker:
    """Walks the YAML node tree of one rule file and collects findings."""

    def __init__(self, version: Version) -> None:
        self.version = version
        self.findings: list[Finding] = []

    # reporting

    def report(self, severity: str, where: _Where, node: Optional[Node], message: str) -> None:
        line = _line(node) if node is not None else None
        self.findings.append(Finding(severity, where.group, where.rule, where.path, line, message))

    def error(self, where: _Where, node: Optional[Node], message: str) -> None:
        self.report(ERROR, where, node, message)

    def warning(self, where: _Where, node: Optional[Node], message: str) -> None:
        self.report(WARNING, where, node, message)

    # generic shapes

    def mapping_entries(self, node: MappingNode, where: _Where) -> dict[str, tuple[ScalarNode, Node]]:
        """Key -> (key node, value node); vmalert keeps the last of a repeated key."""
        entries: dict[str, tuple[ScalarNode, Node]] = {}
        for key_node, value_node in node.value:
            key = _scalar_text(key_node)
            if key is None:
                self.error(where, key_node, "a key must be a plain word, not a list or mapping")
                continue
            if key in entries:
                self.warning(where.child(key), key_node, f"{key!r} is given twice; vmalert uses only the last one, delete the other")
            entries[key] = (key_node, value_node)
        return entries

    def check_known_keys(
        self, entries: dict[str, tuple[ScalarNode, Node]], table: dict[str, Availability], where: _Where, what: str
    ) -> None:
        for key, (key_node, _value_node) in entries.items():
            availability = table.get(key)
            if availability is None or not availability.covers(self.version):
                self.error(where.child(key), key_node, f"unknown {what} key {key!r}: {unknown_name_hint(key, table, self.version)}")

    def expect_mapping(self, node: Node, where: _Where, what: str) -> bool:
        if isinstance(node, MappingNode):
            return True
        self.error(where, node, f"{what} must be a mapping of 'key: value' lines, not {_kind_name(node)}")
        return False

    def expect_list(self, node: Node, where: _Where, what: str) -> bool:
        if isinstance(node, SequenceNode):
            return True
        self.error(where, node, f"{what} must be a list ('- item' lines), not {_kind_name(node)}")
        return False

    def negative_setting_severity(self) -> str:
        return ERROR if NEGATIVE_GROUP_SETTINGS_REFUSED.covers(self.version) else WARNING

    def check_duration(self, node: Node, where: _Where, negative_severity: Optional[str] = WARNING) -> None:
        """negative_severity None: a negative duration is fine here."""
        if _is_null(node):
            self.warning(where, node, "the duration is empty; remove the key or write e.g. '5m'")
            return
        text = _scalar_text(node)
        if text is None:
            self.error(where, node, f"a duration must be a value like '5m', not {_kind_name(node)}")
            return
        problem = self.versioned_duration_problem(text)
        if problem is None:
            return
        severity, message = problem
        if text.startswith("-"):
            if negative_severity is None:
                return
            severity = negative_severity
        self.report(severity, where, node, message)

    def versioned_duration_problem(self, text: str) -> Optional[tuple[str, str]]:
        """duration_problem, plus what depends on the version: Grafana's $__interval
        (a duration from 1.113.0) and sums beyond int64 milliseconds (refused before 1.114.0)."""
        problem = duration_problem(text)
        if problem is not None and problem[0] == WARNING:
            return problem
        try:
            parse_vm_duration(text, self.version)
        except DurationError as err:
            return problem or (ERROR, f"{text!r}: {err}; write e.g. '5m' or '1h30m'")
        if "$__interval" in text:
            return WARNING, f"{text!r} uses $__interval, which is 0 in a rule file; write seconds or minutes, e.g. '5m'"
        return problem

    def check_count(self, node: Node, where: _Where, negative_severity: str = ERROR) -> None:
        if not (isinstance(node, ScalarNode) and node.tag == _INT_TAG):
            self.error(where, node, f"must be a whole number, not {_kind_name(node)}")
        elif _int_value(node) < 0:
            self.report(negative_severity, where, node, f"must be 0 or more, not {node.value}")

    def check_bool(self, node: Node, where: _Where) -> None:
        if not (isinstance(node, ScalarNode) and node.tag == _BOOL_TAG):
            self.error(where, node, f"must be true or false, not {_kind_name(node)}")

    def check_string_map(self, node: Node, where: _Where, what: str, templated: bool) -> dict[str, str]:
        """Labels and annotations: names mapped to text; returns what it could read."""
        if _is_null(node) or not self.expect_mapping(node, where, what):
            return {}
        values: dict[str, str] = {}
        for name, (key_node, value_node) in self.mapping_entries(node, where).items():
            text = _scalar_text(value_node)
            if text is None:
                self.error(where.child(name), value_node, f"the value of {name!r} must be text, not {_kind_name(value_node)}")
                continue
            values[name] = text
            if what == "labels" and not _LABEL_NAME.fullmatch(name):
                self.warning(where.child(name), key_node, f"{name!r} is not a valid label name; use letters, digits and '_'")
            if templated:
                self.check_template(text, where.child(name), value_node)
        return values

    def check_template(self, text: str, where: _Where, node: Node) -> None:
        for severity, message in template_findings(text, self.version):
            self.report(severity, where, node, f"template: {message}")

    # the document

    def check_document(self, root: Node) -> None:
        where = _Where("")
        if _is_null(root):
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
        if self.expect_list(groups_node, _Where("groups"), "groups"):
            self.check_groups(groups_node)

    def check_groups(self, groups_node: SequenceNode) -> None:
        first_line_of_group: dict[str, int] = {}
        for index, group_node in enumerate(groups_node.value):
            where = _Where(f"groups[{index}]")
            if not self.expect_mapping(group_node, where, "a group"):
                continue
            name = self.check_group(group_node, where)
            if name is None:
                continue
            if name in first_line_of_group:
                self.error(
                    _Where(where.path, name), group_node,
                    f"group name {name!r} is already used on line {first_line_of_group[name]}; give each group its own name",
                )
            else:
                first_line_of_group[name] = _line(group_node)

    def check_group(self, node: MappingNode, where: _Where) -> Optional[str]:
        entries = self.mapping_entries(node, where)
        name = self.check_group_name(entries, node, where)
        where = _Where(where.path, name)
        self.check_known_keys(entries, GROUP_KEYS, where, "group")
        group_labels = self.check_group_settings(entries, where)
        if "rules" not in entries or _is_empty(entries["rules"][1]):
            self.warning(where, node, "the group has no rules; add a 'rules:' list or delete the group")
        elif self.expect_list(entries["rules"][1], where.child("rules"), "rules"):
            self.check_rules(entries["rules"][1], where, group_labels)
        return name

    def check_group_name(self, entries: dict[str, tuple[ScalarNode, Node]], node: MappingNode, where: _Where) -> Optional[str]:
        name = _scalar_text(entries["name"][1]) if "name" in entries else None
        if not name:
            self.error(where.child("name"), node, "every group needs a 'name:'; add one")
            return None
        return name

    def check_group_settings(self, entries: dict[str, tuple[ScalarNode, Node]], where: _Where) -> dict[str, str]:
        """Checks the group's own keys; returns the labels it adds to every rule."""
        negative_severity = self.negative_setting_severity()
        for key in ("interval", "eval_offset", "eval_delay"):
            if key in entries:
                negative_ok = key == "eval_offset" and NEGATIVE_EVAL_OFFSET_ACCEPTED.covers(self.version)
                self.check_duration(entries[key][1], where.child(key), None if negative_ok else negative_severity)
        if "eval_offset" in entries and GROUP_KEYS["eval_offset"].covers(self.version):
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

    def check_eval_offset(self, entries: dict[str, tuple[ScalarNode, Node]], where: _Where) -> None:
        """eval_offset must fit in the group's own interval, and excludes eval_delay."""
        offset_node = entries["eval_offset"][1]
        if "eval_delay" in entries and EVAL_OFFSET_WITH_DELAY_REFUSED.covers(self.version):
            self.error(where.child("eval_delay"), entries["eval_delay"][1],
                       "eval_offset cannot be used with eval_delay; keep one of them")
        offset = self.duration_seconds(offset_node)
        interval = self.duration_seconds(entries["interval"][1]) if "interval" in entries else 0.0
        if offset is None or interval is None:
            return  # already reported, or not a duration vmalert could compare
        if NEGATIVE_EVAL_OFFSET_ACCEPTED.covers(self.version):
            offset = abs(offset)
        if offset > interval:
            own = "" if "interval" in entries else " (the group has no interval: of its own, and " \
                "-evaluationInterval does not count here)"
            self.error(where.child("eval_offset"), offset_node,
                       f"eval_offset {_scalar_text(offset_node)!r} is longer than the group's interval{own}; "
                       "set the group's interval: to at least the offset, or shorten the offset")

    def duration_seconds(self, node: Node) -> Optional[float]:
        """A duration's value in seconds as vmalert reads it, or None when it is not one."""
        text = _scalar_text(node)
        if not text or (duration_problem(text) or ("", ""))[0] == ERROR:
            return None
        try:
            return parse_vm_duration(text, self.version)
        except DurationError:
            return None

    def check_datasource_type(self, node: Node, where: _Where) -> None:
        text = _scalar_text(node)
        if text == "":
            return  # vmalert falls back to prometheus
        availability = DATASOURCE_TYPES.get(text or "")
        if availability is None or not availability.covers(self.version):
            hint = unknown_name_hint(text or "", DATASOURCE_TYPES, self.version)
            self.error(where, node, f"unknown datasource type {_kind_name(node)}: {hint}")

    def check_params(self, node: Node, where: _Where) -> None:
        if _is_null(node) or not self.expect_mapping(node, where, "params"):
            return
        for name, (_key_node, value_node) in self.mapping_entries(node, where).items():
            is_text_list = isinstance(value_node, SequenceNode) and all(
                _scalar_text(item) is not None for item in value_node.value
            )
            if not is_text_list:
                self.error(where.child(name), value_node, f"each param holds a list of values; write '{name}: [\"value\"]'")

    def check_headers(self, node: Node, where: _Where) -> None:
        if _is_null(node) or not self.expect_list(node, where, "headers"):
            return
        for index, item in enumerate(node.value):
            text = _scalar_text(item)
            if text is None:
                self.error(where.child(f"[{index}]"), item, "write each header as one quoted string: - 'Name: value'")
            elif text and ":" not in text:
                self.error(where.child(f"[{index}]"), item, f"header {text!r} has no ':'; write it as 'Name: value'")

    # rules

    def check_rules(self, rules_node: SequenceNode, group_where: _Where, group_labels: dict[str, str]) -> None:
        seen: dict[tuple[str, str], list[tuple[str, dict[str, str], int]]] = {}
        for index, rule_node in enumerate(rules_node.value):
            where = group_where.child(f"rules[{index}]")
            if not self.expect_mapping(rule_node, where, "a rule"):
                continue
            identity = self.check_rule(rule_node, where, group_labels)
            if identity is not None:
                self.check_duplicate_rule(identity, seen, where, rule_node)

    def check_rule(
        self, node: MappingNode, where: _Where, group_labels: dict[str, str]
    ) -> Optional[tuple[str, str, str, dict[str, str]]]:
        """Checks one rule; returns (kind, name, expr, labels) when it has a name."""
        entries = self.mapping_entries(node, where)
        kind, name = self.check_rule_kind(entries, node, where)
        where = _Where(where.path, where.group, name)
        self.check_known_keys(entries, RULE_KEYS, where, "rule")
        expr = self.check_expr(entries, node, where)
        labels = self.check_rule_maps(entries, where, kind)
        self.check_rule_settings(entries, where, kind)
        if kind == "alert":
            self.check_severity_label({**group_labels, **labels}, entries, node, where)
        if kind == "record" and name and not _METRIC_NAME.fullmatch(name):
            self.warning(where.child("record"), entries["record"][1], f"{name!r} is not a valid metric name; use letters, digits, '_' and ':'")
        if name is None:
            return None
        return kind, name, expr, labels

    def check_rule_kind(
        self, entries: dict[str, tuple[ScalarNode, Node]], node: MappingNode, where: _Where
    ) -> tuple[str, Optional[str]]:
        alert = _scalar_text(entries["alert"][1]) if "alert" in entries else None
        record = _scalar_text(entries["record"][1]) if "record" in entries else None
        if alert and record:
            self.error(where, node, "a rule has either 'alert:' or 'record:', not both; split it into two rules")
            return "alert", alert
        if not alert and not record:
            self.error(where, node, "a rule needs 'alert: AlertName' or 'record: level:metric:operations'")
            return "alert", None
        return ("alert", alert) if alert else ("record", record)

    def check_expr(self, entries: dict[str, tuple[ScalarNode, Node]], node: MappingNode, where: _Where) -> str:
        expr = _scalar_text(entries["expr"][1]) if "expr" in entries else None
        if expr is None and "expr" in entries:
            self.error(where.child("expr"), entries["expr"][1], "'expr' must be a query text, not a list or mapping")
            return ""
        if not (expr or "").strip():
            self.error(where.child("expr"), node, "the rule has no 'expr:'; write the query it evaluates")
            return ""
        return expr or ""

    def check_rule_maps(self, entries: dict[str, tuple[ScalarNode, Node]], where: _Where, kind: str) -> dict[str, str]:
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

    def check_name_label(self, labels_node: MappingNode, where: _Where) -> None:
        severity = ERROR if RULE_NAME_LABEL_REFUSED.covers(self.version) else WARNING
        self.report(severity, where, labels_node, f"a rule label named __name__ is refused by "
                    f"{RULE_NAME_LABEL_REFUSED.describe()} (it would rename the series); delete it, and name "
                    "a recorded series with 'record:'")

    def check_rule_settings(self, entries: dict[str, tuple[ScalarNode, Node]], where: _Where, kind: str) -> None:
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
        self, labels: dict[str, str], entries: dict[str, tuple[ScalarNode, Node]], node: MappingNode, where: _Where
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
        where: _Where,
        node: MappingNode,
    ) -> None:
        kind, name, expr, labels = identity
        where = _Where(where.path, where.group, name)
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
        earlier.append((expr, labels, _line(node)))


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
        checker.warning(_Where(""), None, f"vmalert {vm_version} is newer than the newest release this check knows "
                        f"({NEWEST_KNOWN}); the file is checked as {NEWEST_KNOWN} would read it, so keys, functions "
                        "or checks added since then are not known here")
    for document in documents:
        if document is not None:
            checker.check_document(document)
    if not any(document is not None for document in documents):
        checker.warning(_Where(""), None, "the file is empty; vmalert loads nothing from it")
    return sorted(checker.findings, key=lambda finding: finding.line or 0)


def _yaml_error_finding(err: yaml.YAMLError) -> Finding:
    mark = getattr(err, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(err, "problem", None) or str(err)
    return Finding(ERROR, None, None, "", line, f"not valid YAML: {problem}")


def errors_only(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.severity == ERROR]
