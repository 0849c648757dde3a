# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""YAML as VictoriaMetrics' parser (Go's gopkg.in/yaml.v2) sees it.

PyYAML builds the node tree (it shares libyaml's grammar with yaml.v2, so
syntax errors agree), but the meaning of an untagged scalar is decided here
with yaml.v2's rules, which differ from PyYAML's: ``y``/``n`` are booleans,
``1e3`` is a float, ``1_000`` is an int, ``0x1F`` is hex.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

try:
    import yaml
except ImportError:  # PyYAML is missing on this host; validate_scrape_config then says so.
    yaml = None

HAS_YAML = yaml is not None

# Plain (unquoted, untagged) scalars get this tag so that resolve_scalar can
# apply yaml.v2's rules instead of PyYAML's.
PLAIN_TAG = "!vmstack/plain"

YAML_PREFIX = "tag:yaml.org,2002:"
STR_TAG = YAML_PREFIX + "str"
BINARY_TAG = YAML_PREFIX + "binary"
MERGE_KEY = "<<"


_BOOLEANS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), float("nan")),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), float("inf")),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), float("-inf")),
}
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
# Go's strconv.ParseFloat: decimal (underscores allowed between digits),
# hexadecimal with a p exponent, inf/infinity and nan.
_GO_DIGITS = r"[0-9]+(?:_[0-9]+)*"
_GO_DECIMAL_FLOAT = re.compile(
    rf"[+-]?(?:{_GO_DIGITS}(?:\.(?:{_GO_DIGITS})?)?|\.{_GO_DIGITS})(?:[eE][+-]?{_GO_DIGITS})?"
)
_GO_HEX_FLOAT = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+")
_GO_SPECIAL_FLOAT = re.compile(r"[+-]?(?:inf|infinity)|nan", re.IGNORECASE)
_INT64_MAX = 2 ** 63 - 1
_UINT64_MAX = 2 ** 64 - 1


_loader_class: Any = None


def _plain_tagging_loader() -> Any:
    """A PyYAML loader class that leaves plain scalars unresolved (see PLAIN_TAG).

    Built on first use so that this module imports without PyYAML.
    """
    global _loader_class
    if _loader_class is None:
        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class PlainTaggingLoader(base):  # type: ignore[misc,valid-type]
            def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
                if kind is yaml.ScalarNode and implicit[0]:
                    return PLAIN_TAG
                return super().resolve(kind, value, implicit)

        _loader_class = PlainTaggingLoader
    return _loader_class


class YAMLSyntaxError(ValueError):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Document:
    root: Any  # a yaml.Node, or None for an empty document
    has_more_documents: bool
    extra_document_line: int | None


def line_of(node: yaml.Node) -> int:
    """The 1-based line a node starts on."""
    return node.start_mark.line + 1


def load_first_document(text: str) -> Document:
    """Compose the first YAML document only, as yaml.v2 does.

    Later documents are not even parsed (the binary never looks at them);
    whether one exists is reported so that the caller can warn.
    """
    if not HAS_YAML:
        raise YAMLSyntaxError("PyYAML is not installed on this host (install python3-yaml)", None)
    # libyaml's parser takes only an exact str. Ansible's unsafe text (a str
    # subclass, as lookup() returns before ansible-core 2.19) keeps its class
    # through str(), so it is copied with str.__str__.
    loader = _plain_tagging_loader()(str.__str__(text) if isinstance(text, str) else text)
    try:
        root = loader.get_node() if loader.check_node() else None
        more, extra_line = _peek_next_document(loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or str(exc)
        raise YAMLSyntaxError(problem, line) from None
    except yaml.YAMLError as exc:
        raise YAMLSyntaxError(str(exc), None) from None
    finally:
        loader.dispose()
    return Document(root, more, extra_line)


def _peek_next_document(loader: Any) -> tuple[bool, int | None]:
    try:
        if loader.check_event(yaml.DocumentStartEvent):
            return True, loader.peek_event().start_mark.line + 1
    except yaml.YAMLError:
        # A broken second document is still never read by the binary.
        return True, None
    return False, None


def _go_parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64) plus the uint64 fallback yaml.v2 uses."""
    sign = 1
    body = text
    if body and body[0] in "+-":
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if not body:
        return None
    lowered = body.lower()
    if lowered.startswith("0x"):
        digits, base = body[2:], 16
    elif lowered.startswith("0o"):
        digits, base = body[2:], 8
    elif lowered.startswith("0b"):
        digits, base = body[2:], 2
    elif len(body) > 1 and body[0] == "0":
        digits, base = body[1:], 8
    else:
        digits, base = body, 10
    try:
        value = int(digits, base) if digits and digits.isalnum() else None
    except ValueError:
        return None
    if value is None:
        return None
    value *= sign
    if -_INT64_MAX - 1 <= value <= _INT64_MAX:
        return value
    if sign > 0 and text[:1] != "+" and value <= _UINT64_MAX:
        return value
    return None


def parse_go_float(text: str) -> float | None:
    """The value Go's strconv.ParseFloat gives, or None where Go reports an error."""
    if _GO_SPECIAL_FLOAT.fullmatch(text):
        return float(text.lower().replace("infinity", "inf"))
    if _GO_DECIMAL_FLOAT.fullmatch(text):
        value = float(text.replace("_", ""))
    elif _GO_HEX_FLOAT.fullmatch(text):
        value = float.fromhex(text)
    else:
        return None
    if value in (float("inf"), float("-inf")):
        # Go reports a range error for overflow instead of returning inf.
        return None
    return value


def resolve_plain(text: str) -> tuple[str, Any]:
    """Resolve an untagged plain scalar as yaml.v2 does: (kind, value).

    kind is one of "null", "bool", "int", "float", "merge", "str".  Timestamps
    stay strings: yaml.v2 keeps them as text wherever a config field can hold
    them.
    """
    if text in _NULLS:
        return "null", None
    if text in _BOOLEANS:
        return "bool", _BOOLEANS[text]
    if text in _SPECIAL_FLOATS:
        return "float", _SPECIAL_FLOATS[text]
    if text == MERGE_KEY:
        return "merge", None
    first = text[0]
    if not text.isascii():
        return "str", text
    if first == ".":
        value = parse_go_float(text)
        return ("float", value) if value is not None else ("str", text)
    if first.isdigit() or first in "+-":
        plain = text.replace("_", "")
        integer = _go_parse_int(plain)
        if integer is not None:
            return "int", integer
        if _YAML_STYLE_FLOAT.fullmatch(plain):
            value = parse_go_float(plain)
            if value is not None:
                return "float", value
    return "str", text


@dataclass
class Scalar:
    """A scalar with yaml.v2's reading of it.

    ``text`` is what a Go string field receives (the raw text, or the
    decoded bytes of a !!binary scalar).  ``kind`` is how the value resolves
    for non-string fields.
    """

    kind: str
    value: Any
    text: str


class ScalarTagError(ValueError):
    """A tagged scalar that yaml.v2 refuses outright (a fatal error)."""


def read_scalar(node: yaml.ScalarNode) -> Scalar:
    tag = node.tag
    if tag == PLAIN_TAG:
        kind, value = resolve_plain(node.value)
        return Scalar(kind, value, node.value)
    if tag == STR_TAG:
        return Scalar("str", node.value, node.value)
    if tag == BINARY_TAG:
        try:
            decoded = base64.b64decode("".join(node.value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ScalarTagError("!!binary value contains invalid base64 data") from None
        text = decoded.decode("utf-8", errors="replace")
        return Scalar("str", text, text)
    if tag.startswith(YAML_PREFIX):
        return _read_explicitly_tagged(node)
    # A local tag such as !vault: yaml.v2 hands the text over unresolved.
    return Scalar("str", node.value, node.value)


def _read_explicitly_tagged(node: yaml.ScalarNode) -> Scalar:
    wanted = node.tag[len(YAML_PREFIX):]
    kind, value = resolve_plain(node.value) if node.value else ("null", None)
    if wanted == "float" and kind == "int":
        return Scalar("float", float(value), node.value)
    if wanted == kind or (wanted == "null" and kind == "null"):
        return Scalar(kind, value, node.value)
    if wanted == "timestamp":
        return Scalar("str", node.value, node.value)
    raise ScalarTagError(f"cannot decode !!{kind} `{node.value}` as a !!{wanted}")


def is_null(node: yaml.Node) -> bool:
    """Whether the node resolves to null (a plain field then keeps its zero value)."""
    if not isinstance(node, yaml.ScalarNode):
        return False
    if node.tag == PLAIN_TAG:
        return node.value in _NULLS
    return node.tag == YAML_PREFIX + "null"


def skips_unmarshaler(node: yaml.Node) -> bool:
    """Whether yaml.v2 leaves a field with its own UnmarshalYAML unset.

    yaml.v2 short-cuts only ``null``, ``~`` and an empty plain value; a plain
    ``Null`` or ``NULL`` still reaches the field's UnmarshalYAML (which then
    sees an empty string).
    """
    if not isinstance(node, yaml.ScalarNode):
        return False
    if node.tag == PLAIN_TAG:
        return node.value in ("", "~", "null")
    return node.tag == YAML_PREFIX + "null"


def short_value(node: yaml.Node) -> str:
    """How yaml.v2 quotes a value in a type error (at most 10 characters)."""
    if isinstance(node, yaml.SequenceNode):
        return "!!seq"
    if isinstance(node, yaml.MappingNode):
        return "!!map"
    text = node.value
    if len(text) > 10:
        text = text[:7] + "..."
    return f"!!{read_scalar_kind_for_message(node)} `{text}`"


def read_scalar_kind_for_message(node: yaml.ScalarNode) -> str:
    try:
        kind = read_scalar(node).kind
    except ScalarTagError:
        kind = "str"
    return "str" if kind == "merge" else kind
