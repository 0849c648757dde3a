# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""vmauth from the inventory: each user's routes, its checks, and the clients that go through it."""

from __future__ import annotations

import os
import platform
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.vmstack.monitoring.plugins.plugin_utils import topology, vmauth
from release_binaries import unpack_binary

GROUPS = {"vmstorage": ["s1"], "vminsert": ["i1", "i2"], "vmselect": ["q1", "q2"], "vmauth": ["front"],
          "vmagent": ["agent"], "vmalert": ["alert"]}
USERS = [
    {"username": "team-a", "password": "secret-a", "tenant": "1"},
    {"name": "reader", "bearer_token": "token-b", "tenant": "2:7"},
]
HOSTVARS = {
    "i1": {"ansible_host": "10.0.1.1"},
    "i2": {"ansible_host": "10.0.1.2", "vminsert_port": 9480},
    "q1": {"ansible_host": "10.0.2.1"},
    "q2": {"ansible_host": "10.0.2.2"},
    "front": {"ansible_host": "10.0.0.9", "vmauth_users": USERS},
    "agent": {"vmstack_vmauth_user": "team-a", "vmstack_cluster_tenant": "1"},
    "alert": {"vmstack_vmauth_user": "team-a", "vmalert_cluster_tenant": "1"},
}
INSERTS = ["http://10.0.1.1:8480", "http://10.0.1.2:9480"]
SELECTS = ["http://10.0.2.1:8481", "http://10.0.2.2:8481"]


def routes(config: dict, user: int) -> dict[str, list[str]]:
    return {path: route["url_prefix"] for route in config["users"][user]["url_map"] for path in route["src_paths"]}


def reachable(config: dict, user: int, path: str) -> list[str]:
    """The backends vmauth sends a path to for one user: its src_paths are anchored regular expressions."""
    return [backend for pattern, backends in routes(config, user).items() if re.fullmatch(pattern, path)
            for backend in backends]


def test_each_user_load_balances_its_tenant_over_every_vminsert_and_vmselect() -> None:
    config = vmauth.vmauth_config(USERS, GROUPS, HOSTVARS)
    assert routes(config, 0) == {"/insert/1/.+": INSERTS, "/select/1/.+": SELECTS}
    assert routes(config, 1) == {"/insert/2:7/.+": INSERTS, "/select/2:7/.+": SELECTS}
    # vmauth's own keys only: the collection's name and tenant stay out.
    assert config["users"][0]["username"] == "team-a" and config["users"][0]["password"] == "secret-a"
    assert config["users"][1]["bearer_token"] == "token-b"
    assert all("tenant" not in user and "name" not in user for user in config["users"])
    assert "unauthorized_user" not in config


def test_a_user_reaches_only_its_own_tenants_paths() -> None:
    config = vmauth.vmauth_config(USERS, GROUPS, HOSTVARS)
    assert reachable(config, 0, "/insert/1/prometheus/api/v1/write") == INSERTS
    assert reachable(config, 0, "/select/1/prometheus/api/v1/query") == SELECTS
    for path in ("/insert/1:7/prometheus/api/v1/write", "/select/2:7/prometheus/api/v1/query",
                 "/insert/10/prometheus/api/v1/write", "/select/0/prometheus/api/v1/query", "/metrics",
                 "/insert/1/"):
        assert reachable(config, 0, path) == [], path
    assert reachable(config, 1, "/select/2:7/prometheus/api/v1/query") == SELECTS
    assert reachable(config, 1, "/select/2/prometheus/api/v1/query") == []


def test_own_routes_and_other_keys_are_kept_and_unauthorized_routes_added() -> None:
    users = [{"username": "raw", "password": "p", "url_prefix": "http://elsewhere:1", "max_concurrent_requests": 3}]
    public = {"url_map": [{"src_paths": ["/select/0/prometheus/api/v1/query"], "url_prefix": "http://q1:8481"}]}
    config = vmauth.vmauth_config(users, GROUPS, HOSTVARS, public)
    assert config == {"users": [{"username": "raw", "password": "p", "url_prefix": "http://elsewhere:1",
                                 "max_concurrent_requests": 3}], "unauthorized_user": public}


def test_in_front_of_single_node_every_path_goes_to_the_first_server() -> None:
    groups = {"victoria_metrics": ["vm1", "vm2"], "vmauth": ["front"]}
    config = vmauth.vmauth_config([{"username": "u", "password": "p"}], groups, {"vm1": {"victoria_metrics_port": 9428}})
    assert config["users"] == [{"username": "u", "password": "p", "url_prefix": "http://vm1:9428"}]
    assert vmauth.findings("front", [{"username": "u", "password": "p"}], groups, {}) == []


def test_correct_users_give_no_finding() -> None:
    assert vmauth.findings("front", USERS, GROUPS, HOSTVARS) == []


@pytest.mark.parametrize(("user", "expected"), [
    ({"tenant": "1"}, "vmauth_users[0] has neither username and password nor bearer_token; write one of them."),
    ({"username": "u", "password": "p", "bearer_token": "t", "tenant": "1"},
     "vmauth_users[0] (u) has both a password and a bearer_token; keep one, and make the other a user of its own."),
    ({"username": "u", "tenant": "1"}, "vmauth_users[0] (u) needs both username and password."),
    ({"password": "p", "tenant": "1"}, "vmauth_users[0] needs both username and password."),
    ({"username": "u", "password": "p"}, "vmauth_users[0] (u) has no tenant; write tenant: \"0\""),
    ({"username": "u", "password": "p", "tenant": "1/../2"},
     "the tenant of vmauth_users[0] (u) is '1/../2'; write an accountID such as 0, or accountID:projectID"),
    ("u:p", "vmauth_users[0] is no dictionary"),
])
def test_a_malformed_user_is_named_with_what_to_write(user: object, expected: str) -> None:
    found = vmauth.user_findings("front", [user], GROUPS)
    assert len(found) == 1 and found[0].startswith(f"front: {expected}"), found
    assert "secret" not in found[0]


def test_duplicates_are_named_without_showing_the_secret() -> None:
    users = [
        {"username": "u", "password": "hunter2-one", "tenant": "1"},
        {"username": "u", "password": "hunter2-two", "tenant": "2"},
        {"name": "x", "bearer_token": "tok-sekrit", "tenant": "1"},
        {"name": "y", "bearer_token": "tok-sekrit", "tenant": "2"},
    ]
    found = vmauth.user_findings("front", users, GROUPS)
    assert found == [
        "front: vmauth_users[1] (u) has the same username as vmauth_users[0] (u); each user needs its own username.",
        "front: vmauth_users[3] (y) has the same bearer_token as vmauth_users[2] (x); each user needs its own bearer_token.",
    ]
    assert not any("hunter2" in item or "sekrit" in item for item in found)


def test_users_that_are_no_list_are_refused() -> None:
    assert vmauth.user_findings("front", {"username": "u"}, GROUPS) == [
        "front: vmauth_users must be a list of users, each username and password or bearer_token."]


def test_vmauth_without_a_backend_is_refused() -> None:
    assert vmauth.backend_findings("front", {"vmauth": ["front"], "vmstorage": ["s1"]}) == [
        "front: vmauth has no backend: put the cluster's hosts in the groups vminsert and vmselect, "
        "or single-node VictoriaMetrics in the group victoria_metrics."]
    assert vmauth.backend_findings("front", {"vmauth": ["front"], "victoria_metrics": ["vm"]}) == []


def test_a_client_without_a_user_or_of_another_tenant_is_refused() -> None:
    hostvars = dict(HOSTVARS, agent={"vmstack_vmauth_user": "nobody"}, alert={"vmstack_vmauth_user": "reader"})
    found = vmauth.client_findings("front", GROUPS, hostvars, ["vmagent", "vmalert"])
    assert found == [
        "front: vmagent on agent goes through vmauth, but vmstack_vmauth_user ('nobody') names none of vmauth_users; "
        "set it to one of ['reader', 'team-a'] (a username, or the name of a bearer_token user).",
        "front: vmalert on alert uses tenant 0 but vmauth user reader may reach only tenant 2:7; set "
        "vmalert_cluster_tenant (or vmstack_cluster_tenant) to 2:7, or name a user of that tenant.",
    ]


def test_clients_get_the_named_users_credentials_secrets_apart() -> None:
    assert vmauth.client_flags(GROUPS, HOSTVARS, "team-a", ["datasource", "remoteWrite"]) == {
        "flags": {"datasource.basicAuth.username": "team-a", "remoteWrite.basicAuth.username": "team-a"},
        "secret_flags": {"datasource.basicAuth.password": "secret-a", "remoteWrite.basicAuth.password": "secret-a"},
    }
    assert vmauth.client_flags(GROUPS, HOSTVARS, "reader", ["remoteWrite"]) == {
        "flags": {}, "secret_flags": {"remoteWrite.bearerToken": "token-b"}}


@pytest.mark.parametrize("reference", ["", "nobody"])
def test_no_credentials_without_vmauth_or_a_user_of_that_name(reference: str) -> None:
    empty = {"flags": {}, "secret_flags": {}}
    assert vmauth.client_flags(GROUPS, HOSTVARS, reference, ["remoteWrite"]) == empty
    groups = {name: hosts for name, hosts in GROUPS.items() if name != "vmauth"}
    assert vmauth.client_flags(groups, HOSTVARS, "team-a", ["remoteWrite"]) == empty


def test_clients_go_through_vmauth_only_when_asked_and_it_exists() -> None:
    assert topology.stack_remote_write_urls(GROUPS, HOSTVARS, "1", True) == [
        "http://10.0.0.9:8427/insert/1/prometheus/api/v1/write"]
    assert topology.stack_query_urls(GROUPS, HOSTVARS, "1", True) == ["http://10.0.0.9:8427/select/1/prometheus"]
    assert topology.stack_insert_urls(GROUPS, HOSTVARS, "1", True) == ["http://10.0.0.9:8427/insert/1/prometheus"]
    # Grafana and promoter do not ask: straight to vmselect.
    assert topology.stack_query_urls(GROUPS, HOSTVARS, "1") == ["http://10.0.2.1:8481/select/1/prometheus",
                                                                "http://10.0.2.2:8481/select/1/prometheus"]
    without = {name: hosts for name, hosts in GROUPS.items() if name != "vmauth"}
    assert topology.stack_remote_write_urls(without, HOSTVARS, "1", True) == ["http://10.0.1.1:8480/insert/1/prometheus/api/v1/write"]


def test_vmagent_writes_to_one_vmauth_only_and_single_node_has_no_tenant_path() -> None:
    groups = {"victoria_metrics": ["vm1", "vm2"], "vmauth": ["f1", "f2"]}
    assert topology.stack_remote_write_urls(groups, {}, "0", True) == ["http://f1:8427/api/v1/write"]
    assert topology.stack_query_urls(groups, {}, "0", True) == ["http://f1:8427", "http://f2:8427"]


def test_vmauth_is_scraped_on_its_port() -> None:
    config = topology.stack_scrape_config({"vmauth": ["front"]}, {"front": {"vmauth_port": 9427}})
    assert config["scrape_configs"] == [{"job_name": "vmauth", "static_configs": [{"targets": ["front:9427"]}]}]


def release_vmauth(version: str, into: Path) -> Path:
    """vmauth-prod of a vmutils release from the bench's artifacts; the test skips without them."""
    artifacts = Path(os.environ.get("VMSTACK_ARTIFACTS", Path.home() / ".cache" / "vmstack-test" / "artifacts"))
    archive = artifacts / "VictoriaMetrics" / f"v{version}" / f"vmutils-linux-amd64-v{version}.tar.gz"
    if not archive.is_file() or platform.machine() != "x86_64":
        pytest.skip(f"needs {archive} (tests/bench builds it) on amd64")
    return unpack_binary(archive, "vmauth-prod", into)


@pytest.mark.parametrize("version", ["1.79.5", "1.112.0", "1.150.0"])
def test_the_release_itself_accepts_a_rendered_file_and_refuses_a_bad_one(version: str, tmp_path: Path) -> None:
    """With -dryRun where the release has it, else a short start: the verdicts of vmauth itself."""
    binary = release_vmauth(version, tmp_path)
    command = vmauth.check_command(str(binary), version)
    assert ("-dryRun" in command) == (version != "1.79.5")
    rendered = tmp_path / "good.yml"
    rendered.write_text(yaml.safe_dump(vmauth.vmauth_config(USERS, GROUPS, HOSTVARS)))
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(vmauth.vmauth_config(USERS, GROUPS, HOSTVARS, {"url_prefix": "not a url"})))

    def verdict(path: Path) -> subprocess.CompletedProcess:
        return subprocess.run(shlex.split(command.replace("%s", shlex.quote(str(path)))),
                              capture_output=True, text=True, check=False, timeout=30)

    accepted = verdict(rendered)
    assert accepted.returncode == 0, accepted.stderr
    refused = verdict(bad)
    assert refused.returncode != 0
    # 1.79.5 knows no unauthorized_user at all; the later ones refuse the URL.
    assert ("unauthorized_user" if version == "1.79.5" else "unsupported scheme") in refused.stderr


def test_a_client_finding_names_each_user_once() -> None:
    """Even when two users share a username (a finding of its own), the list of names to choose from repeats none."""
    users = USERS + [{"username": "team-a", "password": "other", "tenant": "1"}]
    hostvars = dict(HOSTVARS, front={"vmauth_users": users}, agent={"vmstack_vmauth_user": "nobody"})
    found = vmauth.client_findings("front", GROUPS, hostvars, ["vmagent"])
    assert len(found) == 1 and "set it to one of ['reader', 'team-a'] " in found[0], found
