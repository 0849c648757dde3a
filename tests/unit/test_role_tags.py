# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Every component role carries the same tags (README.md, Tags), and the
playbooks carry each role's name, so that a new role cannot forget them:

- ``<role>`` on every step; ``<role>_install`` on the install steps,
  ``<role>_configure`` on the configure steps;
- the start (facts), the checks and the service step with every one of the
  role's tags: a configure-only run is still checked first and still makes its
  new config live;
- a result the service step reads from a step that tags may skip has a
  default, and the start forgets the shared ones an earlier role registered.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = REPO / "roles"
COMPONENTS = sorted(path.name for path in ROLES.iterdir() if (path / "tasks" / "main.yml").is_file() and path.name != "common")
STEPS = ("install", "configure", "run")


def load(path: Path):
    return yaml.safe_load(path.read_text())


def all_tags(role: str) -> set[str]:
    return {role} | {f"{role}_{step}" for step in STEPS}


def tags_of(task: dict) -> set[str]:
    tags = task.get("tags", [])
    return {tags} if isinstance(tags, str) else set(tags)


def common_entry(task: dict) -> str | None:
    """The shared layer's task file a task imports, if it imports one."""
    imported = task.get("ansible.builtin.import_role") or task.get("ansible.builtin.include_role") or {}
    return imported.get("tasks_from") if imported.get("name") == "vmstack.monitoring.common" else None


def test_the_component_roles_are_found() -> None:
    assert {"vmagent", "node_exporter", "victoria_metrics", "grafana", "vmstorage"} <= set(COMPONENTS)


@pytest.mark.parametrize("role", COMPONENTS)
def test_every_step_carries_the_role_tag_and_only_the_role_tags(role: str) -> None:
    for task in load(ROLES / role / "tasks" / "main.yml"):
        tags = tags_of(task)
        assert role in tags, f"{task['name']}: no tag {role}"
        assert tags <= all_tags(role), f"{task['name']}: tags {sorted(tags - all_tags(role))} are not {role}'s"


@pytest.mark.parametrize("role", COMPONENTS)
def test_start_checks_and_service_run_with_every_tag_of_the_role(role: str) -> None:
    tasks = load(ROLES / role / "tasks" / "main.yml")
    assert common_entry(tasks[0]) == "start.yml", "the role does not start with the shared start (facts)"
    checks = [task for task in tasks if (task.get("ansible.builtin.include_tasks") or {}).get("file") == "preflight.yml"]
    services = [task for task in tasks if common_entry(task) == "service.yml"]
    assert len(checks) == 1
    # The tasks a dynamic include brings in carry only the tags it applies.
    assert tags_of(checks[0]["ansible.builtin.include_tasks"]["apply"]) == all_tags(role)
    for task in [tasks[0]] + checks + services:
        assert tags_of(task) == all_tags(role), f"{task['name']}: {sorted(tags_of(task))}"


@pytest.mark.parametrize("role", COMPONENTS)
def test_install_and_configure_steps_carry_their_step_tag_only(role: str) -> None:
    tasks = load(ROLES / role / "tasks" / "main.yml")
    installs = [task for task in tasks if common_entry(task) == "install.yml"]
    configures = [task for task in tasks if task.get("ansible.builtin.import_tasks") == "configure.yml"]
    assert installs, "no install step"
    for task in installs:
        assert tags_of(task) == {role, f"{role}_install"}, task["name"]
    for task in configures:
        assert tags_of(task) == {role, f"{role}_configure"}, task["name"]


@pytest.mark.parametrize("role", COMPONENTS)
def test_results_the_service_step_reads_default_when_their_step_was_skipped(role: str) -> None:
    for task in load(ROLES / role / "tasks" / "main.yml"):
        if common_entry(task) != "service.yml":
            continue
        expression = str((task.get("vars") or {}).get("common_reload_required", ""))
        for name in re.findall(r"\b(__\w+)\b(?!\s*\|\s*default\()", expression):
            pytest.fail(f"{task['name']}: {name} is read without a default (its step may be skipped by tags)")


def test_the_start_forgets_every_shared_result_the_service_step_reads() -> None:
    tasks_dir = ROLES / "common" / "tasks"
    registered = set()
    for entry in ("install.yml", "scrape_config.yml"):
        registered |= set(re.findall(r"register:\s*(common_\w+)", (tasks_dir / entry).read_text()))
    readers = (tasks_dir / "service.yml").read_text() + (ROLES / "common" / "vars" / "main.yml").read_text()
    readers += "".join((ROLES / role / "tasks" / "main.yml").read_text() for role in COMPONENTS)
    read = {name for name in registered if re.search(rf"\b{name}\b", readers)}
    assert read, "the service step reads no result of the install or scrape config step"
    forget = next(task for task in load(tasks_dir / "start.yml") if "ansible.builtin.set_fact" in task)
    assert read <= set(forget["ansible.builtin.set_fact"]), f"not forgotten: {sorted(read - set(forget['ansible.builtin.set_fact']))}"
    assert all(value == {} for value in forget["ansible.builtin.set_fact"].values())


def plays_by_role(playbook: str) -> dict[str, set[str]]:
    """The tags of the play applying each role in a playbook."""
    found = {}
    for play in load(REPO / "playbooks" / playbook):
        for role in play.get("roles", []):
            found[role["role"].rsplit(".", 1)[-1]] = tags_of(play)
    return found


def checks_by_role() -> dict[str, set[str]]:
    """The tags each role's checks run with: their play's and their own."""
    found = {}
    for play in load(REPO / "playbooks" / "checks.yml"):
        for task in play["tasks"]:
            imported = task.get("ansible.builtin.import_role") or task.get("ansible.builtin.include_role") or {}
            if imported.get("tasks_from") == "preflight.yml":
                found[imported["name"].rsplit(".", 1)[-1]] = tags_of(play) | tags_of(task)
    return found


def test_setup_tags_each_play_with_its_role_name() -> None:
    plays = plays_by_role("setup.yml")
    assert sorted(plays) == COMPONENTS
    for role, tags in plays.items():
        assert role in tags, f"the play of {role} lacks the tag {role}: {sorted(tags)}"
    assert "vm" in plays["victoria_metrics"] and "vm" in plays["vmstorage"]


def test_checks_run_with_every_tag_that_selects_the_role() -> None:
    plays = plays_by_role("setup.yml")
    checks = checks_by_role()
    assert sorted(checks) == COMPONENTS
    for role, tags in checks.items():
        assert all_tags(role) <= tags, f"Check {role}: {sorted(all_tags(role) - tags)} missing"
        # --tags vm checks what it deploys, --tags grafana checks nothing else.
        assert tags - all_tags(role) == plays[role] - {role}, f"Check {role} and its play differ: {sorted(tags)}"


def test_the_checks_gather_the_facts_first_whatever_the_tags() -> None:
    first = load(REPO / "playbooks" / "checks.yml")[0]["tasks"][0]
    assert common_entry(first) == "start.yml"
    assert tags_of(first) == {"always"}


def test_each_role_is_checked_on_the_hosts_it_deploys_to() -> None:
    deployed: dict[str, set[str]] = {}
    for play in load(REPO / "playbooks" / "setup.yml"):
        for role in play.get("roles", []):
            deployed.setdefault(role["role"].rsplit(".", 1)[-1], set()).update(play["hosts"].split(":"))
    checked = {}
    for play in load(REPO / "playbooks" / "checks.yml"):
        for task in play["tasks"]:
            imported = task.get("ansible.builtin.import_role") or task.get("ansible.builtin.include_role") or {}
            if imported.get("tasks_from") == "preflight.yml":
                checked[imported["name"].rsplit(".", 1)[-1]] = set(play["hosts"].split(":"))
    assert checked == deployed
