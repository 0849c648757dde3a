# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Every role's argument specs describe exactly the variables its defaults set."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"
ROLE_NAMES = sorted(path.name for path in ROLES.iterdir() if (path / "tasks").is_dir())


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_argument_specs_match_defaults(role: str) -> None:
    defaults = load(ROLES / role / "defaults" / "main.yml")
    options = load(ROLES / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(options) == sorted(defaults), "argument_specs options and defaults/main.yml differ"
    for name, spec in options.items():
        assert spec.get("description"), f"{name} has no description"
        assert spec.get("default") == defaults[name], f"{name}: spec default {spec.get('default')!r} != {defaults[name]!r}"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_variables_carry_the_role_prefix(role: str) -> None:
    prefix = f"{role}_"
    for path in (ROLES / role / "defaults" / "main.yml", ROLES / role / "vars" / "main.yml"):
        if not path.exists():
            continue
        for name in load(path):
            assert name.lstrip("_").startswith(prefix), f"{path}: {name} lacks the prefix {prefix}"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_internal_variables_live_in_vars(role: str) -> None:
    """Public variables (defaults) never start with an underscore; internal ones (vars) do."""
    defaults = load(ROLES / role / "defaults" / "main.yml")
    assert not [name for name in defaults if name.startswith("_")]
    vars_path = ROLES / role / "vars" / "main.yml"
    if vars_path.exists():
        public_in_vars = [name for name in load(vars_path) if not name.startswith("__") and name != "common_release_arch"]
        assert not public_in_vars, f"internal variables must start with '__': {public_in_vars}"
