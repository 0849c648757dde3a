# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Render command-line flags and environment files for systemd units.

systemd parses ExecStart= itself (no shell): it splits on white space, honours
double quotes and backslash escapes, and expands ``$VAR`` and ``%`` specifiers.
Every argument is therefore written in double quotes with those characters
escaped, so that no value can split into two arguments, pull in an environment
variable or a specifier, or end the line.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

FLAG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class FlagError(ValueError):
    """A flag name or value that cannot be rendered safely."""


def _switch_argument(prefix: str, name: str, value: Any) -> str | None:
    """Kingpin-style booleans (Prometheus projects): ``--name`` or ``--no-name``."""
    if value is True:
        return f"{prefix}{name}"
    if value is False:
        return f"{prefix}no-{name}"
    return None


def _flag_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if "\n" in text or "\r" in text or "\0" in text:
        raise FlagError("a flag value cannot contain a line break or NUL byte")
    return text


def quote_exec_arg(argument: str) -> str:
    """Quote one argument for ExecStart= so that systemd passes it through unchanged."""
    escaped = (
        argument.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("%", "%%")
        .replace("$", "$$")
    )
    return f'"{escaped}"'


def flag_arguments(flags: dict[str, Any], prefix: str = "-") -> list[str]:
    """Turn a flag dictionary into arguments, sorted by name so the unit is stable.

    ``None`` or an empty string leaves a flag out (so roles can switch a flag
    off from a template), a list repeats it. A boolean renders as
    ``-name=true``/``-name=false`` for the single-dash style of VictoriaMetrics,
    and as ``--name``/``--no-name`` for the double-dash style of Prometheus
    projects, whose flag parser takes no value after a boolean.
    """
    arguments: list[str] = []
    for name in sorted(flags):
        if not FLAG_NAME.match(str(name)):
            raise FlagError(f"{name!r} is not a valid flag name (letters, digits, '.', '_' and '-' only)")
        value = flags[name]
        if value is None or value == "":
            continue
        values: Iterable[Any] = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            switch = _switch_argument(prefix, name, item) if prefix == "--" else None
            arguments.append(switch or f"{prefix}{name}={_flag_value(item)}")
    return arguments


def exec_start_lines(
    binary: str, flags: dict[str, Any], prefix: str = "-", arguments: Iterable[Any] = ()
) -> list[str]:
    """Return the quoted binary and flag arguments, one per line, for a multi-line ExecStart=.

    ``arguments`` go between the binary and the flags, in their order (a
    subcommand such as ``grafana server``).
    """
    positional = [quote_exec_arg(_flag_value(argument)) for argument in arguments or ()]
    return [quote_exec_arg(binary)] + positional + [quote_exec_arg(arg) for arg in flag_arguments(flags, prefix)]


def _env_value(value: Any) -> str:
    text = _flag_value(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def environment_file(variables: dict[str, Any]) -> str:
    """Render an EnvironmentFile= body; values are double-quoted so spaces and '#' survive."""
    lines = []
    for name in sorted(variables):
        if not ENV_NAME.match(str(name)):
            raise FlagError(f"{name!r} is not a valid environment variable name")
        lines.append(f"{name}={_env_value(variables[name])}")
    return "\n".join(lines) + ("\n" if lines else "")


def envflag_variables(secret_flags: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Map VictoriaMetrics flags to the variables ``-envflag.enable`` reads.

    VictoriaMetrics looks a flag up in the environment under its name with
    dots replaced by underscores (and the ``-envflag.prefix``), which keeps
    secrets out of ExecStart= and out of ``ps``.
    """
    variables: dict[str, str] = {}
    for name, value in secret_flags.items():
        if not FLAG_NAME.match(str(name)):
            raise FlagError(f"{name!r} is not a valid flag name")
        variables[prefix + str(name).replace(".", "_").replace("-", "_")] = _flag_value(value)
    return variables
