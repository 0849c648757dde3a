# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The shared layer's interface (roles/common/meta/argument_specs.yml) stays
the one its task files have: an entry point for each task file another role
or playbook imports from it, and each entry point declares exactly the
common_* variables its files read from the importer, each typed, described,
required or defaulted. Names the layer sets itself (vars/main.yml, register,
set_fact, vars of its own imports) are not inputs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMMON = REPO / "roles" / "common"
SPECS = yaml.safe_load((COMMON / "meta" / "argument_specs.yml").read_text())["argument_specs"]
# A variable of the layer: common_..., not __common_... and not the role name in vmstack.monitoring.common.
NAME = re.compile(r"(?<![\w.])common_[a-z0-9_]+")
INTERNAL = re.compile(r"(?<![\w.])__common_[a-z0-9_]+")
IMPORTS = ("ansible.builtin.import_role", "ansible.builtin.include_role", "import_role", "include_role")


def walk(node):
    """Every dict in a YAML document, at any depth."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def imported_task_files() -> set[str]:
    """The common task files that roles and playbooks import, by entry point name."""
    found = set()
    for path in [*(REPO / "roles").glob("*/tasks/*.yml"), *(REPO / "playbooks").glob("*.yml")]:
        for node in walk(yaml.safe_load(path.read_text())):
            for key in IMPORTS:
                call = node.get(key)
                if isinstance(call, dict) and call.get("name", "").split(".")[-1] == "common" and "tasks_from" in call:
                    found.add(Path(call["tasks_from"]).stem)
    return found


def set_by_the_layer() -> set[str]:
    names = set(yaml.safe_load((COMMON / "vars" / "main.yml").read_text()))
    for path in (COMMON / "tasks").glob("*.yml"):
        for node in walk(yaml.safe_load(path.read_text())):
            if isinstance(node.get("register"), str):
                names.add(node["register"])
            names.update(node.get("ansible.builtin.set_fact") or {})
            if "ansible.builtin.import_tasks" in node:
                names.update(node.get("vars") or {})
    return names


def read_by(entry_point: str) -> set[str]:
    """The common_* names an entry point's files read: the task file, the task
    files it imports, the templates they render and the vars/main.yml values
    they use."""
    internal = yaml.safe_load((COMMON / "vars" / "main.yml").read_text())
    texts, pending = [], [COMMON / "tasks" / f"{entry_point}.yml"]
    while pending:
        path = pending.pop()
        text = path.read_text()
        texts.append(text)
        pending += [COMMON / "tasks" / name for name in re.findall(r"import_tasks:\s*(\S+)", text)]
        pending += [COMMON / "templates" / name for name in re.findall(r"(?:src:\s*|'ansible\.builtin\.template', ')([^\s']+\.j2)", text)]
    seen: set[str] = set()
    while True:
        used = {name for text in texts for name in INTERNAL.findall(text) if name in internal} - seen
        if not used:
            break
        seen |= used
        texts += [str(internal[name]) for name in used]
    return {name for text in texts for name in NAME.findall(text)} - set_by_the_layer()


def test_every_imported_task_file_is_an_entry_point_and_no_other():
    imported = imported_task_files()
    assert {"install", "service", "preflight"} <= imported, "the scan of tasks_from found too little"
    assert set(SPECS) - {"main"} == imported


@pytest.mark.parametrize("entry_point", sorted(set(SPECS) - {"main"}))
def test_an_entry_point_declares_what_its_files_read(entry_point):
    assert set(SPECS[entry_point]["options"]) == read_by(entry_point)


@pytest.mark.parametrize("entry_point", sorted(SPECS))
def test_every_entry_point_and_option_is_documented_as_internal(entry_point):
    spec = SPECS[entry_point]
    assert spec["short_description"].startswith("Internal")
    assert " ".join(spec["description"]).startswith("Internal.")
    for name, option in spec["options"].items():
        assert option.get("type") and option.get("description"), name
        assert option.get("required") is True or "default" in option, f"{name}: neither required nor defaulted"
        if "default" in option and name in SPECS["main"]["options"]:
            assert option["default"] == SPECS["main"]["options"][name]["default"], f"{name}: another default than main"
