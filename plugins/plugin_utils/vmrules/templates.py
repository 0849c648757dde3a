# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""A small checker for the Go text/template syntax of vmalert labels and annotations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import ERROR, WARNING
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import Version
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.features import TEMPLATE_FUNCTIONS, TEMPLATE_VARIABLES, unknown_name_hint
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.template_text import TemplateSyntaxError, split_actions

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
        actions, literal_text = split_actions(text)
        _check_actions(actions, _TemplateScan(version))
    except TemplateSyntaxError as err:
        problems.append((ERROR, str(err)))
    else:
        if "}}" in literal_text:
            problems.append((WARNING, "'}}' appears without a matching '{{'; Go prints it as text. Write '{{ $labels.name }}'"))
    return problems


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
    if availability is not None and availability.available_in(version):
        return
    raise TemplateSyntaxError(f"function {name!r} is not defined; {unknown_name_hint(name, TEMPLATE_FUNCTIONS, version)}")


def _check_variable(name: str, scan: _TemplateScan) -> None:
    if name in scan.declared_variables:
        return
    availability = TEMPLATE_VARIABLES.get(name)
    if availability is not None and availability.available_in(scan.version):
        return
    raise TemplateSyntaxError(f"variable {name!r} is not defined; {unknown_name_hint(name, TEMPLATE_VARIABLES, scan.version)}")
