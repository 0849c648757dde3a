# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Decode a scrape config node tree the way the binary's YAML step does.

This is the part of the check that happens while the binary unmarshals
YAML: unknown and duplicate keys (fatal only in strict mode), values of the
wrong type, and the fields with their own parsers (durations, ``if``
selectors, ``proxy_url``, ``regex`` shapes).  The result is a tree of Obj
holding plain Python values, which rules.py then checks for the
semantic errors the binary finds after unmarshalling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable

try:
    import yaml
except ImportError:  # goyaml.HAS_YAML reports it; nothing here runs without it.
    yaml = None

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import ERROR, WARNING, Finding
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.goyaml import (
    MERGE_KEY,
    PLAIN_TAG,
    ScalarTagError,
    is_null,
    line_of,
    read_scalar,
    short_value,
    skips_unmarshaler,
)
from ansible_collections.vmstack.monitoring.plugins.module_utils.promscrape.schema import (
    STRUCTS,
    Key,
    hint_for_unknown_key,
)
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.durations import DurationError, parse_vm_duration
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.selectors import (
    SelectorError,
    SelectorSyntax,
    check_series_selector,
)
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import (
    Version,
    format_version,
    supports,
)

_INT64_MAX = 2 ** 63 - 1
# Characters Go's url.Parse refuses in a host name.
_BAD_HOST_CHARS = frozenset(" \\^`{|}\"<>")
_UINT64_MAX = 2 ** 64 - 1

_GO_TYPE_OF_KIND = {
    "str": "string",
    "secret": "string",
    "bool": "bool",
    "int": "int",
    "uint": "uint64",
    # Durations unmarshal through a string, so the binary names that type.
    "duration": "string",
    "strlist": "[]string",
    "strmap": "map[string]string",
    "strlistmap": "map[string][]string",
    "tls_inline": "[]uint8",
}

_WHAT_TO_WRITE = {
    "str": "write a single value (quote it if it contains ': ' or starts with a special character)",
    "secret": "write a single string",
    "bool": "write true or false without quotes",
    "int": "write a whole number without quotes, for example 10000",
    "uint": "write a positive whole number without quotes",
    "duration": "write a duration such as 30s",
    "strlist": 'write a YAML list, for example ["a", "b"] or one "- item" per line',
    "strmap": "write a map of name: value pairs with plain string values",
    "strlistmap": "write a map whose values are lists, for example module: [http_2xx]",
    "struct": "write a map with the keys of this section",
    "list": 'write a list, one "- " item per entry',
}


@dataclass
class Obj:
    """A decoded YAML mapping: the values of the keys that were set.

    A key that was null is absent, as the binary leaves such a field at its
    zero value.  ``key_lines`` keeps the line of every key that was written
    (null or not) so that findings can point at it.
    """

    struct: str
    line: int
    path: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)
    item_lines: dict[str, list[int]] = field(default_factory=dict)
    # Keys whose value was refused while decoding; later checks skip what
    # depends on them rather than report a follow-on error.
    broken: set[str] = field(default_factory=set)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def has(self, key: str) -> bool:
        return key in self.values

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


@dataclass
class NullItem:
    """A null entry of a list of pointers (scrape_configs): the binary crashes on it."""

    path: str
    line: int


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def go_url_problem(raw: str) -> str | None:
    """The error Go's url.Parse reports for raw, or None (common cases only)."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in raw):
        return "the URL contains a control character"
    rest = raw.split("#", 1)[0]
    scheme, rest = _split_scheme(rest)
    if scheme is None:
        return "missing protocol scheme"
    rest = rest.split("?", 1)[0]
    if scheme and not rest.startswith("/"):
        return None  # opaque form such as "localhost:3128"
    if not scheme and not rest.startswith("/"):
        colon = rest.find(":")
        slash = rest.find("/")
        if colon >= 0 and (slash < 0 or colon < slash):
            return "first path segment in URL cannot contain colon (write the scheme, e.g. http://host:port)"
    if rest.startswith("//"):
        authority = rest[2:].split("/", 1)[0]
        problem = _host_problem(authority.rsplit("@", 1)[-1])
        if problem:
            return problem
    return _escape_problem(rest)


def _split_scheme(raw: str) -> tuple[str | None, str]:
    for index, char in enumerate(raw):
        if char.isascii() and char.isalpha():
            continue
        if char.isascii() and (char.isdigit() or char in "+-."):
            if index == 0:
                return "", raw
            continue
        if char == ":":
            return (None, raw) if index == 0 else (raw[:index], raw[index + 1:])
        return "", raw
    return "", raw


def _host_problem(host: str) -> str | None:
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return "missing ']' in host"
        port_part = host[end + 1:]
        if port_part and (not port_part.startswith(":") or not port_part[1:].isdigit() and port_part[1:]):
            return f"invalid port {port_part!r} after host"
        return None
    if ":" in host:
        host, port = host.rsplit(":", 1)
        if port and not (port.isascii() and port.isdigit()):
            return f"invalid port {':' + port!r} after host"
    bad = next((char for char in host if char in _BAD_HOST_CHARS), None)
    if bad is not None:
        return f"invalid character {bad!r} in host name"
    return _escape_problem(host)


def _escape_problem(text: str) -> str | None:
    index = text.find("%")
    while index >= 0:
        digits = text[index + 1:index + 3]
        if len(digits) != 2 or not all(c in "0123456789abcdefABCDEF" for c in digits):
            return f"invalid URL escape {text[index:index + 3]!r}"
        index = text.find("%", index + 3)
    return None


def _go_format_float(value: float) -> str:
    """strconv.FormatFloat(value, 'f', -1, 64): shortest digits, no exponent."""
    if math.isnan(value):
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


class Decoder:
    """Walks a node tree with the struct tables and reports what the binary would.

    ``sink`` receives findings; ``file`` is set for scrape_config_files.
    """

    def __init__(self, version: Version, strict: bool, sink: list[Finding], file: str | None = None) -> None:
        self.version = version
        self.strict = strict
        self.sink = sink
        self.file = file
        self._readers: dict[str, Callable[[yaml.Node, str], Any]] = {
            "str": self._read_str,
            "secret": self._read_secret,
            "bool": self._read_bool,
            "int": self._read_int,
            "uint": self._read_uint,
            "duration": self._read_duration,
            "strlist": self._read_strlist,
            "strmap": self._read_strmap,
            "strlistmap": self._read_strlistmap,
            "regex": self._read_regex,
            "if": self._read_if,
            "proxy_url": self._read_proxy_url,
            "tls_inline": self._read_tls_inline,
            "zone": self._read_zone,
        }

    # -- reporting --------------------------------------------------------

    def error(self, path: str, line: int | None, message: str) -> None:
        self.sink.append(Finding(ERROR, None, path, line, message, file=self.file))

    def warning(self, warning_id: str, path: str, line: int | None, message: str) -> None:
        self.sink.append(Finding(WARNING, None, path, line, message, warning_id=warning_id, file=self.file))

    def type_error(self, node: yaml.Node, kind: str, path: str) -> None:
        go_type, what = self._describe_kind(kind)
        self.error(path, line_of(node), f"cannot unmarshal {short_value(node)} into {go_type}; {what}")

    @staticmethod
    def _describe_kind(kind: str) -> tuple[str, str]:
        if kind.startswith("struct:"):
            return STRUCTS[kind[7:]].go_name, _WHAT_TO_WRITE["struct"]
        if kind.startswith("list:"):
            return "[]" + STRUCTS[kind[5:]].go_name, _WHAT_TO_WRITE["list"]
        if kind.startswith("ptrlist:"):
            return "[]*" + STRUCTS[kind[8:]].go_name, _WHAT_TO_WRITE["list"]
        return _GO_TYPE_OF_KIND.get(kind, kind), _WHAT_TO_WRITE.get(kind, "")

    def _scalar(self, node: yaml.ScalarNode, path: str):
        try:
            return read_scalar(node)
        except ScalarTagError as exc:
            self.error(path, line_of(node), f"{exc}; fix or drop the YAML tag")
            return None

    # -- structs and lists ------------------------------------------------

    def decode_key(self, node: yaml.Node, kind: str, path: str) -> Any:
        if kind.startswith("struct:"):
            return self.decode_struct(node, kind[7:], path)
        if kind.startswith("list:") or kind.startswith("ptrlist:"):
            return self.read_list(node, kind, path)
        return self._readers[kind](node, path)

    def decode_struct(self, node: yaml.Node, struct_name: str, path: str) -> Obj | None:
        if is_null(node):
            return None
        if not isinstance(node, yaml.MappingNode):
            self.type_error(node, "struct:" + struct_name, path)
            return None
        obj = Obj(struct_name, line_of(node), path)
        self._fill(obj, node, path)
        return obj

    def read_list(self, node: yaml.Node, kind: str, path: str) -> list[Any]:
        """Decode a list of structs; kind is "list:<Struct>" or "ptrlist:<Struct>"."""
        if is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.type_error(node, kind, path)
            return []
        struct_name = kind.split(":", 1)[1]
        keep_null_items = kind.startswith("ptrlist:")
        items: list[Any] = []
        for index, item in enumerate(node.value):
            item_path = f"{path}[{index}]"
            if is_null(item):
                null_item = NullItem(item_path, line_of(item))
                items.append(null_item if keep_null_items else Obj(struct_name, line_of(item), item_path))
                continue
            decoded = self.decode_struct(item, struct_name, item_path)
            if decoded is not None:
                items.append(decoded)
        return items

    def _fill(self, obj: Obj, node: yaml.MappingNode, path: str) -> None:
        keys = STRUCTS[obj.struct].keys
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if _is_merge_key(key_node):
                for source in self._merge_sources(value_node, path):
                    self._fill(obj, source, path)
                continue
            name = self._key_name(key_node, path)
            if name is None:
                continue
            key_path = join_path(path, name)
            spec = keys.get(name)
            if spec is None or not spec.available_in(self.version):
                self._unknown_key(obj.struct, name, key_path, line_of(key_node))
                continue
            if name in seen and self._duplicate_key(obj.struct, name, key_path, line_of(key_node)):
                continue
            seen.add(name)
            self._store(obj, name, spec, key_node, value_node, key_path)

    def _store(self, obj: Obj, name: str, spec: Key, key_node: yaml.Node, value_node: yaml.Node,
               key_path: str) -> None:
        obj.key_lines[name] = line_of(key_node)
        if isinstance(value_node, yaml.SequenceNode):
            obj.item_lines[name] = [line_of(item) for item in value_node.value]
        errors_before = len(self.sink)
        value = self.decode_key(value_node, spec.kind, key_path)
        if any(finding.is_error for finding in self.sink[errors_before:]):
            obj.broken.add(name)
        if value is None:
            obj.values.pop(name, None)
        else:
            obj.values[name] = value

    def _key_name(self, key_node: yaml.Node, path: str) -> str | None:
        if not isinstance(key_node, yaml.ScalarNode):
            self.error(path, line_of(key_node), "a key must be a plain name, not a list or a map")
            return None
        return "" if is_null(key_node) else key_node.value

    def _merge_sources(self, node: yaml.Node, path: str) -> list[yaml.MappingNode]:
        if isinstance(node, yaml.MappingNode):
            return [node]
        if isinstance(node, yaml.SequenceNode) and all(isinstance(n, yaml.MappingNode) for n in node.value):
            # yaml.v2 merges a list of maps last first, so earlier maps win.
            return list(reversed(node.value))
        self.error(path, line_of(node), "map merge requires map or sequence of maps as the value "
                   "(write <<: *anchor or <<: [*a, *b])")
        return []

    def _unknown_key(self, struct_name: str, name: str, path: str, line: int) -> None:
        hint = hint_for_unknown_key(struct_name, name, self.version)
        where = STRUCTS[struct_name].go_name
        if self.strict:
            self.error(path, line, f"field {name} not found in type {where}; {hint}")
        else:
            self.warning("ignored-field", path, line,
                         f"field {name} is not known to {where} and is ignored because strict parsing "
                         f"is off; {hint}")

    def _duplicate_key(self, struct_name: str, name: str, path: str, line: int) -> bool:
        """Report a repeated key; True when the binary keeps the first value."""
        where = STRUCTS[struct_name].go_name
        if self.strict:
            self.error(path, line, f"field {name} already set in type {where}; keep only one `{name}:` "
                       "in this section")
            return True
        self.warning("duplicate-key", path, line,
                     f"`{name}` is given twice in this section; the binary silently uses the last one")
        return False

    # -- scalar kinds -----------------------------------------------------

    def _text_of(self, node: yaml.Node, kind: str, path: str) -> str | None:
        """The text a Go string receives, or None for null or a type error."""
        if is_null(node):
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.type_error(node, kind, path)
            return None
        scalar = self._scalar(node, path)
        return None if scalar is None else scalar.text

    def _read_str(self, node: yaml.Node, path: str) -> str | None:
        return self._text_of(node, "str", path)

    def _read_secret(self, node: yaml.Node, path: str) -> str | None:
        return self._text_of(node, "secret", path)

    def _read_bool(self, node: yaml.Node, path: str) -> bool | None:
        if is_null(node):
            return None
        scalar = self._scalar(node, path) if isinstance(node, yaml.ScalarNode) else None
        if scalar is not None and scalar.kind == "bool":
            return scalar.value
        if scalar is not None or not isinstance(node, yaml.ScalarNode):
            self.type_error(node, "bool", path)
        return None

    def _read_int(self, node: yaml.Node, path: str) -> int | None:
        if is_null(node):
            return None
        scalar = self._scalar(node, path) if isinstance(node, yaml.ScalarNode) else None
        if scalar is not None and scalar.kind == "int" and scalar.value <= _INT64_MAX:
            return scalar.value
        if scalar is not None and scalar.kind == "float" and -float(2 ** 63) <= scalar.value <= _INT64_MAX:
            # The binary truncates: 1.9 becomes 1.
            return int(scalar.value)
        if scalar is not None or not isinstance(node, yaml.ScalarNode):
            self.type_error(node, "int", path)
        return None

    def _read_uint(self, node: yaml.Node, path: str) -> int | None:
        if is_null(node):
            return None
        scalar = self._scalar(node, path) if isinstance(node, yaml.ScalarNode) else None
        if scalar is not None and scalar.kind == "int" and 0 <= scalar.value <= _UINT64_MAX:
            return scalar.value
        if scalar is not None and scalar.kind == "float" and 0 <= scalar.value <= _UINT64_MAX:
            return int(scalar.value)
        if scalar is not None or not isinstance(node, yaml.ScalarNode):
            self.type_error(node, "uint", path)
        return None

    def _custom_text(self, node: yaml.Node, kind: str, path: str) -> str | None:
        """Text handed to a field with its own UnmarshalYAML (which reads a string)."""
        if skips_unmarshaler(node):
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.type_error(node, kind, path)
            return None
        scalar = self._scalar(node, path)
        if scalar is None:
            return None
        return "" if scalar.kind == "null" else scalar.text

    def _read_duration(self, node: yaml.Node, path: str) -> float | None:
        text = self._custom_text(node, "duration", path)
        if text is None:
            return None
        try:
            return parse_vm_duration(text, self.version)
        except DurationError as exc:
            upper = "" if supports(self.version, "duration_upper_case_units") else " in lower case"
            self.error(path, line_of(node), f"{exc}: write a number of seconds or <number><unit> parts "
                       f"such as 30s, 1m30s or 2h (units ms, s, m, h, d, w, y{upper})")
            return None

    def _read_strlist(self, node: yaml.Node, path: str) -> list[str]:
        if is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.type_error(node, "strlist", path)
            return []
        items: list[str] = []
        for index, item in enumerate(node.value):
            text = self._text_of(item, "str", f"{path}[{index}]")
            if text is not None or is_null(item):
                items.append(text or "")
        return items

    def _map_pairs(self, node: yaml.MappingNode, path: str) -> list[tuple[yaml.Node, yaml.Node]]:
        pairs: list[tuple[yaml.Node, yaml.Node]] = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if _is_merge_key(key_node):
                for source in self._merge_sources(value_node, path):
                    pairs.extend(self._map_pairs(source, path))
                continue
            name = self._key_name(key_node, path)
            if name is None:
                continue
            if name in seen:
                if self.strict:
                    self.error(join_path(path, name), line_of(key_node),
                               f"key {name!r} already set in map; keep only one")
                    continue
                self.warning("duplicate-key", join_path(path, name), line_of(key_node),
                             f"`{name}` is given twice in this map; the binary silently uses the last one")
            seen.add(name)
            pairs.append((key_node, value_node))
        return pairs

    def _read_strmap(self, node: yaml.Node, path: str) -> dict[str, str]:
        if is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.type_error(node, "strmap", path)
            return {}
        result: dict[str, str] = {}
        for key_node, value_node in self._map_pairs(node, path):
            name = "" if is_null(key_node) else key_node.value
            text = self._text_of(value_node, "str", join_path(path, name))
            result[name] = text or ""
        return result

    def _read_strlistmap(self, node: yaml.Node, path: str) -> dict[str, list[str]]:
        if is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.type_error(node, "strlistmap", path)
            return {}
        result: dict[str, list[str]] = {}
        for key_node, value_node in self._map_pairs(node, path):
            name = "" if is_null(key_node) else key_node.value
            result[name] = self._read_strlist(value_node, join_path(path, name))
        return result

    def _read_regex(self, node: yaml.Node, path: str) -> str | None:
        if skips_unmarshaler(node):
            return None
        try:
            return self._regex_text(node, path)
        except ValueError as exc:
            self.error(path, line_of(node), str(exc))
            return None

    def _regex_text(self, node: yaml.Node, path: str) -> str:
        if isinstance(node, yaml.SequenceNode):
            return "|".join(self._regex_text(item, path) for item in node.value)
        if isinstance(node, yaml.MappingNode):
            raise ValueError("unexpected type for `regex`: a map; write a string or a list of strings "
                             "(the list items are joined with |)")
        scalar = read_scalar(node)
        if scalar.kind == "null":
            return "null"
        if scalar.kind == "bool":
            return "true" if scalar.value else "false"
        if scalar.kind == "float":
            return _go_format_float(scalar.value)
        if scalar.kind == "int":
            if scalar.value > _INT64_MAX:
                raise ValueError("unexpected type for `regex`: uint64; quote the number")
            return str(scalar.value)
        return scalar.text

    def _read_if(self, node: yaml.Node, path: str) -> list[str] | None:
        if skips_unmarshaler(node):
            return None
        selectors = self._if_selectors(node, path)
        if selectors is None:
            return None
        syntax = _selector_syntax(self.version)
        for selector in selectors:
            try:
                check_series_selector(selector, syntax)
            except SelectorError as exc:
                self.error(path, line_of(node), f"cannot parse `if` series selector {selector!r}: {exc}")
        return selectors

    def _if_selectors(self, node: yaml.Node, path: str) -> list[str] | None:
        if not supports(self.version, "if_list"):
            if isinstance(node, yaml.ScalarNode):
                scalar = self._scalar(node, path)
                return None if scalar is None else [scalar.text]
            self.error(path, line_of(node), f"cannot unmarshal `if` option: {short_value(node)} into string; "
                       f"a list of selectors needs v1.92.0 or later ({format_version(self.version)} "
                       "checked): write one selector, or split the rule in two")
            return None
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        selectors: list[str] = []
        for item in items:
            scalar = self._scalar(item, path) if isinstance(item, yaml.ScalarNode) else None
            if scalar is None or scalar.kind != "str":
                self.error(path, line_of(item), "unexpected `if` value: write a quoted series selector "
                           "string, or a list of them")
                return None
            selectors.append(scalar.text)
        return selectors

    def _read_proxy_url(self, node: yaml.Node, path: str) -> str | None:
        text = self._custom_text(node, "str", path)
        if text is None:
            return None
        problem = go_url_problem(text)
        if problem:
            self.error(path, line_of(node), f"cannot parse proxy_url={text!r}: {problem}")
            return None
        return text

    def _read_tls_inline(self, node: yaml.Node, path: str) -> str | None:
        if supports(self.version, "tls_inline_pem"):
            return self._text_of(node, "str", path)
        if is_null(node):
            return None
        self.error(path, line_of(node), f"cannot unmarshal {short_value(node)} into []uint8: "
                   f"{format_version(self.version)} cannot take inline PEM (fixed in v1.95.0); "
                   "put it in a file and use ca_file / cert_file / key_file")
        return None

    def _read_zone(self, node: yaml.Node, path: str) -> list[str] | None:
        if skips_unmarshaler(node):
            return None
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        zones: list[str] = []
        for item in items:
            scalar = self._scalar(item, path) if isinstance(item, yaml.ScalarNode) else None
            if scalar is None or scalar.kind != "str":
                self.error(path, line_of(item), "unexpected zone: write a zone name or a list of them")
                return None
            zones.append(scalar.text)
        return zones


@lru_cache(maxsize=64)
def _selector_syntax(version: Version) -> SelectorSyntax:
    return SelectorSyntax(
        allow_or=supports(version, "if_list"),
        angle_named_groups=supports(version, "regex_angle_named_group"),
        quoted_names=supports(version, "selector_quoted_names"),
        metric_name_per_or_group=supports(version, "selector_metric_name_per_or_group"),
    )


def _is_merge_key(node: yaml.Node) -> bool:
    if not isinstance(node, yaml.ScalarNode):
        return False
    if node.tag == PLAIN_TAG:
        return node.value == MERGE_KEY
    return node.tag == "tag:yaml.org,2002:merge"
