# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The series selectors VictoriaMetrics accepts in a relabel rule's ``if``.

The binary parses ``if`` as a full MetricsQL expression and then insists
that it is a plain series selector: ``name``, ``name{filters}`` or
``{filters}``.  Anything else (a function, an aggregation, a range, an
``offset``, a binary operator, a number) is refused.  This module accepts
exactly those selector forms and checks the regexes inside ``=~``/``!~``.

Newer releases (SelectorSyntax) also take quoted names inside ``{}``: a
quoted label name before an operator, or a quoted metric name on its own
(``{"my.metric", "a.b"="c"}``); they then refuse a selector that names two
different metrics (``a{__name__="b"}``), first anywhere in it, later within
one ``or`` group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.re2 import RegexSyntaxError, check_re2

_IDENT = re.compile(r"(?:[a-zA-Z_:]|\\.)(?:[a-zA-Z0-9_:.]|\\.)*", re.DOTALL)
_NUMBER_WORDS = frozenset(("inf", "nan"))
_OPERATORS = ("=~", "!~", "!=", "=")
_PUNCTUATION = "{}(),+"
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\", "'": "'", '"': '"', "`": "`"}
_HEX_ESCAPE_LENGTH = {"x": 2, "u": 4, "U": 8}

EXAMPLE = '{__name__=~"http_.*", job="node"}'


class SelectorError(ValueError):
    """The text is not a series selector that VictoriaMetrics accepts."""


@dataclass(frozen=True)
class SelectorSyntax:
    """What a release's MetricsQL parser takes in an ``if`` selector."""

    allow_or: bool
    angle_named_groups: bool = False
    quoted_names: bool = False
    metric_name_per_or_group: bool = False


def _unquote(token: str) -> str:
    """Decode a quoted MetricsQL string the way Go's strconv does."""
    quote, body = token[0], token[1:-1]
    if quote == "`":
        return body
    decoded: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        index += 1
        if char != "\\":
            decoded.append(char)
            continue
        escape = body[index:index + 1]
        index += 1
        if escape in _SIMPLE_ESCAPES:
            decoded.append(_SIMPLE_ESCAPES[escape])
        elif escape in _HEX_ESCAPE_LENGTH:
            digits = body[index:index + _HEX_ESCAPE_LENGTH[escape]]
            index += len(digits)
            if len(digits) != _HEX_ESCAPE_LENGTH[escape] or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise SelectorError(f"invalid escape sequence in string {token}")
            decoded.append(chr(int(digits, 16)))
        elif escape and escape in "01234567":
            digits = body[index - 1:index + 2]
            index += 2
            if len(digits) != 3 or not all(c in "01234567" for c in digits):
                raise SelectorError(f"invalid escape sequence in string {token}")
            decoded.append(chr(int(digits, 8)))
        else:
            raise SelectorError(
                f"invalid escape sequence \\{escape} in string {token}; a regex escape such as \\d must be "
                "doubled inside a quoted MetricsQL string (\\\\d), or the string written in backticks"
            )
    return "".join(decoded)


def _unquote_ident(token: str) -> str:
    """An identifier with its backslash escapes (``a\\.b``) resolved."""
    return re.sub(r"\\(.)", r"\1", token, flags=re.DOTALL)


def _scan_string(text: str, start: int) -> int:
    quote = text[start]
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and quote != "`":
            index += 2
            continue
        if char == quote:
            return index + 1
        index += 1
    raise SelectorError(f"cannot find closing quote {quote} for the string {text[start:]}")


def tokenize(text: str) -> list[str]:
    """Split a MetricsQL expression into tokens (enough of it for selectors)."""
    tokens: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif char == "#":
            newline = text.find("\n", index)
            index = len(text) if newline < 0 else newline
        elif char in "\"'`":
            end = _scan_string(text, index)
            tokens.append(text[index:end])
            index = end
        elif _IDENT.match(text, index):
            match = _IDENT.match(text, index)
            tokens.append(match.group(0))
            index = match.end()
        else:
            operator = next((op for op in _OPERATORS if text.startswith(op, index)), None)
            token = operator or char
            tokens.append(token)
            index += len(token)
    return tokens


class _SelectorParser:
    def __init__(self, text: str, syntax: SelectorSyntax) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.syntax = syntax
        # The metric names each `or` group asks for (the name before `{`
        # belongs to every group).
        self.metric_names: list[list[str]] = [[]]

    def peek(self) -> str:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ""

    def take(self) -> str:
        token = self.peek()
        self.pos += 1
        return token

    def refuse(self, what: str) -> None:
        raise SelectorError(f"expecting a series selector such as {EXAMPLE}; {what}")

    def parse(self) -> None:
        if not self.tokens:
            self.refuse("got an empty expression")
        opened = 0
        while self.peek() == "(":
            self.take()
            opened += 1
        self.selector()
        for _parenthesis in range(opened):
            if self.take() != ")":
                self.refuse("unbalanced parentheses")
        if self.pos < len(self.tokens):
            self.refuse(f"got {self.text.strip()!r}, which is a query and not a plain selector "
                        f"(unexpected {self.tokens[self.pos]!r})")
        if self.syntax.quoted_names:
            self.check_metric_names()

    def check_metric_names(self) -> None:
        groups = self.metric_names
        if not self.syntax.metric_name_per_or_group:
            groups = [[name for group in groups for name in group]]
        for names in groups:
            different = sorted(set(names))
            if len(different) > 1:
                raise SelectorError(f"metric name must not be set twice: {different[0]!r} or {different[1]!r}; "
                                    "a selector (or one of its `or` groups) can ask for one metric name only")

    def selector(self) -> None:
        token = self.peek()
        if token == "{":
            self.label_filters()
            return
        if not _IDENT.fullmatch(token or " ") or token.lower() in _NUMBER_WORDS:
            self.refuse(f"got {self.text.strip()!r}")
        self.take()
        if self.peek() == "(":
            self.refuse(f"{token}(...) is a function call, not a selector")
        if self.peek() == "{":
            self.label_filters()
        for names in self.metric_names:
            names.append(_unquote_ident(token))

    def label_filters(self) -> None:
        self.take()
        while self.peek() != "}":
            self.label_filter()
            separator = self.peek()
            if separator == ",":
                self.take()
            elif separator == "or" and self.syntax.allow_or:
                self.take()
                self.metric_names.append([])
            elif separator == "or":
                self.refuse("`or` inside {} needs VictoriaMetrics v1.92.0 or later; "
                            "use a list of selectors or two relabel rules")
            elif separator != "}":
                self.refuse(f"unexpected {separator!r} in label filters; want ',' or '}}'")
        self.take()

    def label_name(self) -> tuple[str, bool]:
        """(name, whether it was quoted) of the label a filter starts with."""
        token = self.take()
        if token and token[0] in "\"'`" and self.syntax.quoted_names:
            return _unquote(token), True
        if not _IDENT.fullmatch(token or " "):
            self.refuse(f"unexpected {token!r} where a label name belongs")
        return _unquote_ident(token), False

    def label_filter(self) -> None:
        label, quoted = self.label_name()
        if quoted and self.peek() in (",", "}", "or"):
            self.metric_names[-1].append(label)  # {"metric.name"}
            return
        operator = self.take()
        if operator not in _OPERATORS:
            self.refuse(f"label {label} needs one of = != =~ !~ and a quoted value")
        value = self.string_value()
        if operator == "=" and label == "__name__":
            self.metric_names[-1].append(value)
        if operator in ("=~", "!~"):
            anchored = f"^(?:{value})$"
            try:
                check_re2(anchored, angle_named_groups=self.syntax.angle_named_groups)
            except RegexSyntaxError as exc:
                raise SelectorError(f"cannot parse regexp {anchored!r} for label {label}: {exc}") from None

    def string_value(self) -> str:
        parts: list[str] = []
        while True:
            token = self.take()
            if not token or token[0] not in "\"'`":
                self.refuse(f"a label value must be a quoted string; got {token!r}")
            parts.append(_unquote(token))
            if self.peek() != "+":
                return "".join(parts)
            self.take()


@lru_cache(maxsize=4096)
def _selector_error(text: str, syntax: SelectorSyntax) -> str | None:
    try:
        _SelectorParser(text, syntax).parse()
    except SelectorError as exc:
        return str(exc)
    return None


def check_series_selector(text: str, syntax: SelectorSyntax) -> None:
    """Raise SelectorError unless text is a series selector the binary accepts."""
    error = _selector_error(text, syntax)
    if error is not None:
        raise SelectorError(error)
