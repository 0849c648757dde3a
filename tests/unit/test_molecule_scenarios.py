# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Each Molecule scenario's file holds only what differs from the shared one.

Molecule merges ``.config/molecule/config.yml`` into every scenario's
``molecule.yml``; a scenario that repeats a shared setting hides which of its
settings are its own, and drifts when the shared one changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = yaml.safe_load((REPO_ROOT / ".config/molecule/config.yml").read_text())
SCENARIOS = sorted(REPO_ROOT.glob("molecule/*/molecule.yml"))
# Podman settings every test host gets from tests/bench/containers.conf (ulimits)
# or from its /sbin/init command (systemd mode).
PLATFORM_KEYS_FROM_PODMAN = {"ulimits", "systemd"}


def repeated_settings(own: Any, shared: Any, path: str = "") -> Iterator[str]:
    """The key paths of ``own`` whose value equals the shared file's."""
    if not isinstance(own, dict) or not isinstance(shared, dict):
        return
    for key, value in own.items():
        if key not in shared:
            continue
        where = f"{path}.{key}" if path else key
        if value == shared[key]:
            yield where
        else:
            yield from repeated_settings(value, shared[key], where)


def test_the_helper_finds_a_repeated_setting() -> None:
    own = {"driver": {"name": "podman"}, "verifier": {"options": {"hosts": "x", "p": "no:cacheprovider"}}}
    assert list(repeated_settings(own, SHARED)) == ["driver", "verifier.options.p"]


def test_there_are_scenarios() -> None:
    assert len(SCENARIOS) >= 10


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda path: path.parent.name)
def test_scenario_repeats_no_shared_setting(scenario: Path) -> None:
    own = yaml.safe_load(scenario.read_text())
    assert list(repeated_settings(own, SHARED)) == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda path: path.parent.name)
def test_platforms_leave_podman_defaults_to_podman(scenario: Path) -> None:
    platforms = yaml.safe_load(scenario.read_text())["platforms"]
    assert [platform["name"] for platform in platforms if PLATFORM_KEYS_FROM_PODMAN & set(platform)] == []
