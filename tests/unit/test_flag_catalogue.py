# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The catalogue of VictoriaMetrics flags per release and the preflight's check of extra flags (issue 13)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO_ROOT

from ansible_collections.vmstack.monitoring.plugins.plugin_utils import flags, preflight

SUPPORTED = ["1.79.5", "1.112.0", "1.150.0"]
GENERATOR = REPO_ROOT / "tests" / "bench" / "flag-catalogue"
ARTIFACTS = Path(os.environ.get("VMSTACK_ARTIFACTS") or Path.home() / ".cache/vmstack-test/artifacts")


def _generator():
    loader = importlib.machinery.SourceFileLoader("flag_catalogue_generator", str(GENERATOR))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


# Shapes of Go's flag.PrintDefaults as the supported releases print them.
HELP = """vminsert accepts data via popular data ingestion protocols.

  -dryRun
    \tWhether to check config files without running vmalert.
  -storageNode array
    \tComma-separated addresses of vmstorage nodes; usage: -storageNode=vmstorage-host1,...,vmstorage-hostN
    \tSupports an array of values separated by comma or specified via multiple flags.
  -dst string
    \tWhere to put the backup.
    \t-dst can point to the previous backup.
  -remoteWrite.obfuscateLabels ^^
    \tList of label names, separated by ^^.
    \tSupports an `array` of values separated by comma or specified via multiple flags.
  -mdx.label -remoteWrite.url
    \tOptional label value forwarded to -remoteWrite.url endpoints.
  -s\tshort
  -replicationFactor int
    \tReplication factor for the ingested data (default 1)
"""


def test_the_generator_reads_every_shape_of_help_and_its_lists() -> None:
    names, lists = _generator().parse_help(HELP)
    assert names == {"dryRun", "storageNode", "dst", "remoteWrite.obfuscateLabels", "mdx.label", "s", "replicationFactor"}
    assert lists == {"storageNode", "remoteWrite.obfuscateLabels"}


def test_the_catalogue_covers_the_supported_releases_of_every_component() -> None:
    data = flags.catalogue()
    assert data["versions"] == SUPPORTED
    assert sorted(data["components"]) == sorted(
        ["victoria-metrics", "vmagent", "vmalert", "vmauth", "vmbackup", "vmrestore", "vmstorage", "vminsert", "vmselect"])
    for component, entry in data["components"].items():
        for kind in ("flags", "lists"):
            listed = [name for names in entry[kind].values() for name in names]
            assert len(listed) == len(set(listed)), f"{component} {kind}: a flag listed under two sets of releases"
            assert all(set(key.split()) <= set(SUPPORTED) for key in entry[kind])
        every_list_is_a_flag = all(
            version in key.split() and name in flags.known_flags(component, version)
            for key, names in entry["lists"].items() for name in names for version in key.split())
        assert every_list_is_a_flag, component
        # Each release of each binary has its listen address: the catalogue holds no empty or half-read release.
        assert all("httpListenAddr" in flags.known_flags(component, version) for version in SUPPORTED), component


@pytest.mark.skipif(not (ARTIFACTS / "VictoriaMetrics" / "v1.150.0-cluster").is_dir(),
                    reason=f"no release archives in {ARTIFACTS} (tests/bench/build-artifacts.sh): the catalogue is "
                           f"not compared with the binaries")
def test_the_committed_catalogue_is_what_the_binaries_say() -> None:
    result = subprocess.run([sys.executable, str(GENERATOR), "--check", "--artifacts", str(ARTIFACTS), *SUPPORTED],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr


def test_a_typo_is_refused_with_the_flag_it_resembles() -> None:
    findings = preflight.service_findings("h1", "vminsert", {}, {
        "name": "vminsert", "role": "vminsert", "directories": [], "version": "1.112.0",
        "extra_flags": {"replicationFactr": 2, "maxLabelsPerTimeseries": 40}, "managed_flags": {},
    })
    assert findings == [
        "h1: vminsert_extra_flags names '-replicationFactr', which vminsert 1.112.0 does not know; did you mean "
        "'-replicationFactor'? Correct or remove it."
    ]


def test_a_secret_flag_is_checked_and_its_value_never_shown() -> None:
    findings = preflight.service_findings("h1", "vmagent", {}, {
        "name": "vmagent", "role": "vmagent", "directories": [], "version": "1.150.0",
        "secret_flags": {"remoteWrite.basicAuth.pasword": "hunter2"},
    })
    assert len(findings) == 1
    assert findings[0].startswith("h1: vmagent_secret_flags names '-remoteWrite.basicAuth.pasword', which vmagent "
                                  "1.150.0 does not know; did you mean '-remoteWrite.basicAuth.password'?")
    assert "hunter2" not in findings[0]


def test_a_flag_of_another_release_names_the_releases_that_have_it() -> None:
    # -search.maxDeleteSeries came after 1.79.5.
    assert flags.flag_problem("vmselect", "1.79.5", "search.maxDeleteSeries", "1", "vmselect_version") == (
        "names '-search.maxDeleteSeries', which vmselect 1.79.5 does not know (of the catalogued releases, 1.112.0, "
        "1.150.0 have it): remove it, or set vmselect_version to one of those.")
    assert flags.flag_problem("vmselect", "1.112.0", "search.maxDeleteSeries") is None


def test_a_name_like_no_other_says_where_to_look() -> None:
    assert flags.flag_problem("vmstorage", "1.150.0", "zzz") == (
        "names '-zzz', which vmstorage 1.150.0 does not know; see `vmstorage -help`. Correct or remove it.")


def test_a_list_is_refused_only_for_a_flag_that_takes_one_value() -> None:
    assert flags.flag_problem("vminsert", "1.150.0", "storageNode", ["a:8400", "b:8400"]) is None
    assert flags.flag_problem("vminsert", "1.150.0", "replicationFactor", [1, 2]) == (
        "gives '-replicationFactor' a list, but vminsert 1.150.0 takes one value for it (it would keep only the last): "
        "give one value.")
    # -httpListenAddr takes a list since 1.112.0 only.
    assert flags.flag_problem("vminsert", "1.112.0", "httpListenAddr", [":1", ":2"]) is None
    assert "takes one value" in flags.flag_problem("vminsert", "1.79.5", "httpListenAddr", [":1", ":2"])


@pytest.mark.parametrize("version", ["1.100.0", "1.151.0", "", None])
def test_a_release_outside_the_catalogue_passes_unchecked(version) -> None:
    assert flags.known_flags("vminsert", version) is None
    assert flags.unknown_flag_findings("h1", "vminsert", version, "vminsert_version", {"vminsert_extra_flags": {"x": 1}}) == []


def test_components_without_a_catalogue_are_not_checked() -> None:
    service = {"name": "alertmanager", "directories": [], "version": "0.33.1", "extra_flags": {"no.such": "1"}}
    assert preflight.service_findings("h1", "alertmanager", {}, service) == []


def test_a_release_written_with_a_v_is_the_same_release() -> None:
    assert flags.known_flags("vmagent", "v1.79.5") == flags.known_flags("vmagent", "1.79.5")


# --- the collection's own flags --------------------------------------------------------------

ROLE_COMPONENTS = {"victoria_metrics": "victoria-metrics", "vmagent": "vmagent", "vmalert": "vmalert",
                   "vmstorage": "vmstorage", "vminsert": "vminsert", "vmselect": "vmselect", "vmauth": "vmauth"}
_QUOTED_KEY = re.compile(r"'([A-Za-z][\w.]*)':")


def _vars(role: str) -> dict:
    return yaml.safe_load((REPO_ROOT / "roles" / role / "vars" / "main.yml").read_text())


def _own_flags() -> dict[str, set[str]]:
    """Every flag name a role puts on a VictoriaMetrics command line or in its environment file, by component."""
    own = {component: set(_vars(role)[f"__{role}_flags"]) for role, component in ROLE_COMPONENTS.items()}
    # vmstorage's snapshot key reaches it through -envflag.enable.
    own["vmstorage"] |= set(_QUOTED_KEY.findall(_vars("vmstorage")["__vmstorage_service"]["environment"]))
    backup = _vars("vmbackup")
    s3_flags = set(backup["__vmbackup_s3_flags"])
    # vmstack-backup adds -dst and -origin to each run.
    own["vmbackup"] = (set(_QUOTED_KEY.findall(backup["__vmbackup_flags"])) | set(_QUOTED_KEY.findall(backup["__vmbackup_secret_flags"]))
                       | s3_flags | {"dst", "origin"})
    restore = (REPO_ROOT / "roles" / "vmbackup" / "tasks" / "restore.yml").read_text()
    own["vmrestore"] = set(_QUOTED_KEY.findall(restore.split("__vmbackup_restore_binary]", 1)[1].split("| combine", 1)[0])) | s3_flags
    return own


def test_the_flags_read_from_the_roles_are_the_ones_they_set() -> None:
    own = _own_flags()
    assert {"storageNode", "replicationFactor", "httpListenAddr"} <= own["vminsert"]
    assert "snapshotAuthKey" in own["vmstorage"]
    assert {"snapshot.createURL", "storageDataPath", "credsFilePath", "dst", "origin"} <= own["vmbackup"]
    assert own["vmrestore"] == {"httpListenAddr", "src", "storageDataPath", "credsFilePath", "customS3Endpoint",
                                "s3ForcePathStyle"}


@pytest.mark.parametrize("version", SUPPORTED)
def test_every_flag_the_collection_sets_exists_in_every_supported_release(version: str) -> None:
    unknown = {component: sorted(names - set(flags.known_flags(component, version)))
               for component, names in _own_flags().items()}
    assert not any(unknown.values()), f"flags the roles set that {version} does not know: {unknown}"


@pytest.mark.parametrize("role", [*ROLE_COMPONENTS, "vmbackup"])
def test_each_role_gives_the_preflight_its_release_and_added_flags(role: str) -> None:
    checked = _vars(role)[f"__{role}_preflight"]
    assert checked["version"] == f"{{{{ {role}_version }}}}"
    assert checked["extra_flags"] == f"{{{{ {role}_extra_flags }}}}"
    defaults = yaml.safe_load((REPO_ROOT / "roles" / role / "defaults" / "main.yml").read_text())
    if f"{role}_secret_flags" in defaults:
        assert checked["secret_flags"] == f"{{{{ {role}_secret_flags }}}}"
    # The catalogue is keyed by the service's name.
    assert flags.catalogued(checked["name"], "1.150.0")


def test_the_filter_warns_that_flags_of_an_uncatalogued_release_go_unchecked(monkeypatch) -> None:
    from ansible_collections.vmstack.monitoring.plugins.filter import preflight as preflight_filter

    shown: list[str] = []
    monkeypatch.setattr(preflight_filter.display, "warning", shown.append)
    check = preflight_filter.FilterModule().filters()["service_findings"]
    service = {"name": "vminsert", "role": "vminsert", "directories": [], "version": "1.120.0",
               "extra_flags": {"replicationFactr": 2}, "secret_flags": {}}
    assert check("h1", "vminsert", {}, service) == []
    assert shown == ["h1: vminsert 1.120.0 is not in the flag catalogue (1.79.5, 1.112.0, 1.150.0): the flags of "
                     "vminsert_extra_flags are not checked before the change; a flag that release does not know "
                     "stops the service from starting."]
    shown.clear()
    assert check("h1", "vminsert", {}, dict(service, extra_flags={})) == []
    assert check("h1", "vminsert", {}, dict(service, version="1.150.0")) != []
    assert check("h1", "alertmanager", {}, dict(service, name="alertmanager", role="alertmanager")) == []
    assert shown == []
