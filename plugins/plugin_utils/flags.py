# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The flags each VictoriaMetrics component knows, by release, and the check of a role's flags against them.

A binary refuses to start on a flag it does not know, so a typo in
``<role>_extra_flags`` would leave the unit restarting in a loop (and the
collection rolling it back); the controller refuses it before any host
changes instead. The facts come from ``flag_catalogue.json`` beside this
file, written by ``tests/bench/flag-catalogue`` from the real binaries'
``-help`` (README.md, Security). A release the catalogue does not list passes
unchecked (unchecked_note says so): a flag that came after the newest listed release, or went before
the oldest, cannot be told from a typo.
"""

from __future__ import annotations

import difflib
import functools
import json
from pathlib import Path
from typing import Any, Mapping

_CATALOGUE_PATH = Path(__file__).with_name("flag_catalogue.json")


@functools.lru_cache(maxsize=None)
def catalogue() -> Mapping[str, Any]:
    """The catalogue as written by the generator (read once per process)."""
    with _CATALOGUE_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)


def _names(groups: Mapping[str, list[str]], version: str) -> set[str]:
    return {name for versions, names in groups.items() if version in versions.split() for name in names}


def _release(version: Any) -> str:
    return str(version).strip().lstrip("v")


def catalogued(component: str, version: Any) -> bool:
    """Whether the catalogue knows ``component`` at ``version``."""
    return component in catalogue()["components"] and _release(version) in catalogue()["versions"]


def known_flags(component: str, version: Any) -> dict[str, bool] | None:
    """Each flag ``component`` knows at ``version``, mapped to whether it takes a list; None when not catalogued."""
    if not catalogued(component, version):
        return None
    entry = catalogue()["components"][component]
    lists = _names(entry["lists"], _release(version))
    return {name: name in lists for name in _names(entry["flags"], _release(version))}


def _elsewhere(component: str, flag: str) -> list[str]:
    """The catalogued versions that have ``flag``."""
    return sorted({version for versions, names in catalogue()["components"][component]["flags"].items()
                   if flag in names for version in versions.split()},
                  key=lambda version: tuple(int(part) for part in version.split(".")))


def flag_problem(component: str, version: Any, flag: str, value: Any = None,
                 version_variable: str = "the version") -> str | None:
    """What is wrong with setting ``-flag`` (to ``value``) for ``component`` at ``version``, or None.

    None too when the catalogue does not know the version. A list value is
    refused for a flag that takes one value: the binary would silently keep
    only the last one.
    """
    known = known_flags(component, version)
    if known is None:
        return None
    release = _release(version)
    if flag not in known:
        problem = f"names '-{flag}', which {component} {release} does not know"
        others = _elsewhere(component, flag)
        if others:
            return (f"{problem} (of the catalogued releases, {', '.join(others)} have it): remove it, or set "
                    f"{version_variable} to one of those.")
        close = difflib.get_close_matches(flag, known, n=1, cutoff=0.75)
        hint = f"did you mean '-{close[0]}'?" if close else f"see `{component} -help`."
        return f"{problem}; {hint} Correct or remove it."
    if isinstance(value, (list, tuple)) and len(value) > 1 and not known[flag]:
        return (f"gives '-{flag}' a list, but {component} {release} takes one value for it (it would keep only "
                f"the last): give one value.")
    return None


def unchecked_note(host: str, component: str, version: Any, flags: Mapping[str, Mapping[str, Any] | None]) -> str | None:
    """A note that the added flags of a catalogued component go unchecked at a release the catalogue lacks, or None."""
    if component not in catalogue()["components"] or catalogued(component, version):
        return None
    variables = [variable for variable, values in flags.items() if values]
    if not variables:
        return None
    return (f"{host}: {component} {_release(version)} is not in the flag catalogue "
            f"({', '.join(catalogue()['versions'])}): the flags of {' and '.join(variables)} are not checked "
            f"before the change; a flag that release does not know stops the service from starting.")


def unknown_flag_findings(host: str, component: str, version: Any, version_variable: str,
                          flags: Mapping[str, Mapping[str, Any] | None]) -> list[str]:
    """One finding per flag that ``component`` at ``version`` would refuse.

    ``flags`` maps each variable that adds flags (``<role>_extra_flags``,
    ``<role>_secret_flags``) to its flag dictionary. Secret values are never
    quoted: a finding names the flag only.
    """
    findings = []
    for variable, values in flags.items():
        for flag, value in (values or {}).items():
            problem = flag_problem(component, version, str(flag), value, version_variable)
            if problem:
                findings.append(f"{host}: {variable} {problem}")
    return findings
