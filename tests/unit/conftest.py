# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Make ``ansible_collections.vmstack.monitoring`` importable from this checkout.

The plugins import each other by their collection names.  Registering the
namespace packages here lets the unit tests run straight from the repository,
with or without Ansible installed and without an ansible_collections tree.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _namespace_module(name: str, path: list[str]) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = path  # type: ignore[attr-defined]
    return module


def register_vmstack_collection(repo_root: Path = REPO_ROOT) -> None:
    """Point ``ansible_collections.vmstack.monitoring`` at repo_root (once)."""
    if "ansible_collections.vmstack.monitoring" in sys.modules:
        return
    try:
        # Keep a real ansible_collections (from an Ansible install) so that
        # other collections stay importable next to this one.
        importlib.import_module("ansible_collections")
    except ImportError:
        sys.modules["ansible_collections"] = _namespace_module("ansible_collections", [])
    sys.modules["ansible_collections.vmstack"] = _namespace_module("ansible_collections.vmstack", [])
    sys.modules["ansible_collections.vmstack.monitoring"] = _namespace_module(
        "ansible_collections.vmstack.monitoring", [str(repo_root)]
    )


register_vmstack_collection()


@pytest.fixture(scope="module")
def collection_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for ansible commands that find vmstack.monitoring as a user would.

    The collections path is $VMSTACK_TEST_COLLECTIONS_PATH when set (tests/docs.sh
    points it at the collection installed from the tarball), else a temporary one
    with this checkout linked in.
    """
    collections = os.environ.get("VMSTACK_TEST_COLLECTIONS_PATH")
    if not collections:
        collections = str(tmp_path_factory.mktemp("collections"))
        namespace = Path(collections) / "ansible_collections" / "vmstack"
        namespace.mkdir(parents=True)
        (namespace / "monitoring").symlink_to(REPO_ROOT)
    return {**os.environ, "ANSIBLE_COLLECTIONS_PATH": collections, "ANSIBLE_NOCOLOR": "1"}
