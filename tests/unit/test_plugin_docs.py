# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Every plugin of the collection renders with ansible-doc, and only the intended filters are public.

ansible-doc is run on this checkout, linked as vmstack.monitoring in a
temporary collections path, the way a user who installed it would run it.
tests/docs.sh runs it again on the collection installed from the tarball
(see the collection_env fixture).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ansible")

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_DOC = Path(sys.executable).with_name("ansible-doc")
COLLECTION = "vmstack.monitoring"

# Every plugin type ansible-doc can list for a collection (roles have their own test).
PLUGIN_TYPES = (
    "become", "cache", "callback", "cliconf", "connection", "filter", "httpapi", "inventory",
    "lookup", "module", "netconf", "shell", "strategy", "test", "vars",
)

# What a user may call. Everything else the collection registers exists for its roles only.
PUBLIC_FILTERS = {
    "component_endpoints", "component_urls", "default_port", "join_host_port", "mask_secrets", "port_conflicts",
    "probe_address", "stack_scrape_config", "url_host_port", "validate_rule_file", "validate_scrape_config",
    "stack_query_urls", "stack_insert_urls", "stack_remote_write_urls",
}
INTERNAL_MARK = "Internal:"


def ansible_doc(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ANSIBLE_DOC), *arguments], env=env, capture_output=True, text=True, check=False)


def listed(env: dict[str, str], plugin_type: str) -> list[str]:
    result = ansible_doc(env, "--list", "--json", "-t", plugin_type, COLLECTION)
    assert result.returncode == 0, result.stderr
    return sorted(json.loads(result.stdout))


@pytest.fixture(scope="module")
def plugins(collection_env: dict[str, str]) -> dict[str, list[str]]:
    return {plugin_type: listed(collection_env, plugin_type) for plugin_type in PLUGIN_TYPES}


@pytest.fixture(scope="module")
def docs(collection_env: dict[str, str], plugins: dict[str, list[str]]) -> dict[str, dict[str, dict]]:
    """ansible-doc's JSON for every listed plugin, by type then name (one ansible-doc run per type)."""
    found: dict[str, dict[str, dict]] = {}
    for plugin_type, names in plugins.items():
        if not names:
            continue
        result = ansible_doc(collection_env, "--json", "-t", plugin_type, *names)
        assert result.returncode == 0, f"ansible-doc -t {plugin_type}: {result.stderr}"
        assert "[WARNING]" not in result.stderr, result.stderr
        found[plugin_type] = json.loads(result.stdout)
    return found


def description(doc: dict) -> str:
    lines = doc["doc"]["description"]
    return lines[0] if isinstance(lines, list) else lines


def test_the_collection_has_plugins_to_document(plugins: dict[str, list[str]]) -> None:
    assert f"{COLLECTION}.scrape_config" in plugins["module"]
    assert len(plugins["filter"]) >= len(PUBLIC_FILTERS)


def test_every_plugin_renders_with_documentation_examples_and_return(
    plugins: dict[str, list[str]], docs: dict[str, dict[str, dict]]
) -> None:
    incomplete = []
    for plugin_type, names in plugins.items():
        for name in names:
            doc = docs[plugin_type].get(name) or {}
            missing = [part for part in ("doc", "examples", "return") if not doc.get(part)]
            if missing or not doc["doc"].get("short_description"):
                incomplete.append(f"{plugin_type} {name}: missing {missing or ['short_description']}")
    assert not incomplete, "\n".join(incomplete)


def test_only_the_intended_filters_are_public(docs: dict[str, dict[str, dict]]) -> None:
    public = set()
    for name, doc in docs["filter"].items():
        marked = description(doc).startswith(INTERNAL_MARK)
        assert marked == doc["doc"]["short_description"].startswith(INTERNAL_MARK), (
            f"{name}: short_description and description must agree on being internal"
        )
        if not marked:
            public.add(name.removeprefix(f"{COLLECTION}."))
    assert public == PUBLIC_FILTERS, (
        "a filter is public unless its description starts with 'Internal:'; "
        f"new public: {sorted(public - PUBLIC_FILTERS)}, no longer public: {sorted(PUBLIC_FILTERS - public)}"
    )


def test_every_role_renders(collection_env: dict[str, str]) -> None:
    roles = sorted(path.name for path in (REPO_ROOT / "roles").iterdir() if (path / "meta" / "argument_specs.yml").exists())
    result = ansible_doc(collection_env, "--list", "--json", "-t", "role", COLLECTION)
    assert result.returncode == 0, result.stderr
    names = [f"{COLLECTION}.{role}" for role in roles]
    assert sorted(json.loads(result.stdout)) == names
    rendered = ansible_doc(collection_env, "--json", "-t", "role", *names)
    assert rendered.returncode == 0, rendered.stderr
    for name, doc in json.loads(rendered.stdout).items():
        for entry_point, spec in doc["entry_points"].items():
            assert spec.get("short_description") and spec.get("description"), f"{name}:{entry_point} lacks descriptions"


def test_every_module_attribute_is_complete(docs: dict[str, dict[str, dict]]) -> None:
    """antsibull-docs rejects an attribute without description and support (a missing fragment), ansible-doc does not."""
    incomplete = [
        f"{name}: attribute {attribute} lacks {part}"
        for name, doc in docs["module"].items()
        for attribute, spec in (doc["doc"].get("attributes") or {}).items()
        for part in ("description", "support")
        if not spec.get(part)
    ]
    assert not incomplete, "\n".join(incomplete)
