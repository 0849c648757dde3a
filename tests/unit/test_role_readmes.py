# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Every component role has a README in one outline, so that what a newcomer
learns from one role holds for the others, and the variables a README names
are variables the role has (a renamed or removed one leaves no stale doc)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"
COMPONENTS = sorted(path.name for path in ROLES.iterdir() if (path / "tasks").is_dir() and path.name != "common")
# The common headings, in this order, before any heading of the role's own.
OUTLINE = [
    "Example",
    "Variables",
    "Ports and URLs",
    "Checks before any change",
    "Files and secrets",
    "Restarts and reloads",
    "Tags",
    "Tested",
]
# common is the internal layer: its README has an outline of its own.
COMMON_OUTLINE = ["Entry points", "The service description (`common_service`)", "Config files (`config_files`)",
                  "Checks before any change (`preflight`)", "What it guarantees"]
# A variable of a role: its name and "_", not part of a path, URL, filter or longer word.
VARIABLE = re.compile(r"(?<![\w./$-])(" + "|".join(sorted(COMPONENTS, key=len, reverse=True)) + r")_[a-z0-9_]*[a-z0-9]")


def prose(role: str) -> str:
    """The README without its code blocks (a shell prompt or YAML comment there is no heading)."""
    return re.sub(r"^```.*?^```", "", (ROLES / role / "README.md").read_text(), flags=re.M | re.S)


def headings(text: str, level: int) -> list[str]:
    return re.findall(rf"^{'#' * level} (.+?)\s*$", text, flags=re.M)


def defaults(role: str) -> set[str]:
    return set(yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text()) or {})


def test_the_outline_covers_every_component_role():
    assert {"victoria_metrics", "vmagent", "node_exporter", "vmbackup", "alertmanager"} <= set(COMPONENTS)


@pytest.mark.parametrize("role", COMPONENTS)
def test_readme_follows_the_outline(role):
    text = prose(role)
    assert headings(text, 1) == [role], "one title, the role's name"
    assert headings(text, 2)[: len(OUTLINE)] == OUTLINE, "the common headings come first, in this order"


@pytest.mark.parametrize("role", COMPONENTS)
def test_readme_names_the_role_tags(role):
    tags = prose(role).split("\n## Tags\n", 1)[1].split("\n## ", 1)[0]
    for tag in (role, f"{role}_install", f"{role}_run"):
        assert f"`{tag}`" in tags


@pytest.mark.parametrize("role", COMPONENTS)
def test_every_variable_a_readme_names_exists(role):
    text = (ROLES / role / "README.md").read_text()  # the examples' variables too
    named = {match.group(0): match.group(1) for match in VARIABLE.finditer(text)}
    tags = {f"{owner}_{step}" for owner in COMPONENTS for step in ("install", "configure", "run")}
    stale = sorted(name for name, owner in named.items() if name not in tags and name not in defaults(owner))
    assert not stale, f"named in roles/{role}/README.md but in no role's defaults: {stale}"


def test_common_readme_keeps_its_own_outline():
    text = re.sub(r"^```.*?^```", "", (ROLES / "common" / "README.md").read_text(), flags=re.M | re.S)
    assert headings(text, 1) == ["common (internal)"]
    assert headings(text, 2) == COMMON_OUTLINE
