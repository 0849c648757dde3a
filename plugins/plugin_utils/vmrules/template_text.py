# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Finding the {{ }} actions in the text of a vmalert label or annotation.

templates.py then checks what is inside each action.
"""

from __future__ import annotations


class TemplateSyntaxError(ValueError):
    """The text is not a valid vmalert template."""


def split_actions(text: str) -> tuple[list[str], str]:
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
