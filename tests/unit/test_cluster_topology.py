# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The cluster's wiring from the inventory: storage nodes, tenant paths, preflight findings."""

from __future__ import annotations

import pytest

from ansible_collections.vmstack.monitoring.plugins.plugin_utils import topology
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.preflight import setting_findings

CLUSTER_GROUPS = {"vmstorage": ["s1", "s2"], "vminsert": ["i1", "i2"], "vmselect": ["q1"], "victoria_metrics": ["single"]}
CLUSTER_HOSTVARS = {
    "s1": {"ansible_host": "10.0.0.1"},
    "s2": {"ansible_host": "fe80::2%eth0", "vmstorage_vminsert_port": 9400, "vmstorage_vmselect_port": 9401},
    "i1": {"ansible_host": "10.0.1.1"},
    "i2": {"ansible_host": "10.0.1.2", "vminsert_port": 9480},
    "q1": {"vmstack_address": "q1.example", "vmselect_port": 9481},
    "single": {"ansible_host": "10.0.9.9"},
}


def test_storage_nodes_use_each_nodes_own_rpc_port() -> None:
    assert topology.component_endpoints(CLUSTER_GROUPS, CLUSTER_HOSTVARS, "vmstorage", "vminsert") == [
        "10.0.0.1:8400", "[fe80::2%eth0]:9400"]
    assert topology.component_endpoints(CLUSTER_GROUPS, CLUSTER_HOSTVARS, "vmstorage", "vmselect") == [
        "10.0.0.1:8401", "[fe80::2%eth0]:9401"]


def test_a_cluster_is_queried_and_written_through_its_tenant_paths() -> None:
    assert topology.stack_query_urls(CLUSTER_GROUPS, CLUSTER_HOSTVARS, "1:7") == [
        "http://q1.example:9481/select/1:7/prometheus"]
    assert topology.stack_insert_urls(CLUSTER_GROUPS, CLUSTER_HOSTVARS, 3) == [
        "http://10.0.1.1:8480/insert/3/prometheus", "http://10.0.1.2:9480/insert/3/prometheus"]


def test_vmagent_writes_to_one_vminsert_only() -> None:
    """vmagent sends every sample to each URL: two vminserts would store it twice."""
    assert topology.stack_remote_write_urls(CLUSTER_GROUPS, CLUSTER_HOSTVARS) == [
        "http://10.0.1.1:8480/insert/0/prometheus/api/v1/write"]


def test_without_a_cluster_every_single_node_server_is_used() -> None:
    groups = {"victoria_metrics": ["a", "b"]}
    hostvars = {"a": {}, "b": {"victoria_metrics_port": 9428}}
    assert topology.stack_remote_write_urls(groups, hostvars, "bad tenant is ignored") == [
        "http://a:8428/api/v1/write", "http://b:9428/api/v1/write"]
    assert topology.stack_query_urls(groups, hostvars) == ["http://a:8428", "http://b:9428"]
    assert topology.stack_insert_urls(groups, hostvars) == ["http://a:8428", "http://b:9428"]


@pytest.mark.parametrize("tenant", ["0", "1:7", 42, "4294967295", "4294967295:4294967295"])
def test_tenants_that_vminsert_accepts(tenant: object) -> None:
    assert topology.tenant_problem("v", tenant) is None


@pytest.mark.parametrize("tenant", ["", "x", "1:", ":1", "1:2:3", "-1", "4294967296", "1 ", "1/2"])
def test_tenants_that_are_refused_name_the_variable(tenant: object) -> None:
    problem = topology.tenant_problem("vmagent_cluster_tenant", tenant)
    assert problem and problem.startswith("vmagent_cluster_tenant is ") and "accountID:projectID" in problem


def test_a_bad_tenant_never_reaches_a_url() -> None:
    with pytest.raises(ValueError, match="accountID"):
        topology.stack_query_urls(CLUSTER_GROUPS, CLUSTER_HOSTVARS, "1/../2")


def test_preflight_names_a_bad_tenant() -> None:
    assert setting_findings("h", {"tenants": {"vmalert_cluster_tenant": "a:b"}}) == [
        "h: vmalert_cluster_tenant is 'a:b'; write an accountID such as 0, or accountID:projectID such as 1:7."]
    assert setting_findings("h", {"tenants": {"vmalert_cluster_tenant": "2:3"}}) == []


THREE_NODES = {**CLUSTER_GROUPS, "vmstorage": ["s1", "s2", "s3"]}


@pytest.mark.parametrize("factor", [1, "2", 2])
def test_a_replication_factor_with_2rf_minus_1_nodes_passes(factor: object) -> None:
    assert topology.cluster_findings("i1", THREE_NODES, factor, "vminsert_replication_factor") == []


def test_a_replication_factor_without_2rf_minus_1_nodes_is_refused() -> None:
    # Two nodes hold RF 2 copies only while both are up: one down, and new samples get one copy.
    assert topology.cluster_findings("i1", CLUSTER_GROUPS, 2, "vminsert_replication_factor") == [
        "i1: vminsert_replication_factor is 2 but the vmstorage group has 2 node(s); a factor of 2 needs "
        "at least 3 (2 x 2 - 1) so that, with 1 of them down, every new sample is still stored 2 times. "
        "Write at most 1, or add vmstorage nodes."]


@pytest.mark.parametrize(("nodes", "highest"), [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3)])
def test_the_highest_factor_allowed_is_half_the_nodes_rounded_up(nodes: int, highest: int) -> None:
    groups = {"vmstorage": [f"s{n}" for n in range(nodes)]}
    assert topology.cluster_findings("i1", groups, highest, "vminsert_replication_factor") == []
    refused = topology.cluster_findings("i1", groups, highest + 1, "vminsert_replication_factor")
    assert len(refused) == 1 and f"Write at most {highest}," in refused[0]


def test_a_replication_factor_above_the_node_count_is_refused() -> None:
    findings = topology.cluster_findings("i1", THREE_NODES, 4, "vminsert_replication_factor")
    assert findings == [
        "i1: vminsert_replication_factor is 4 but the vmstorage group has 3 node(s); a factor of 4 needs "
        "at least 7 (2 x 4 - 1) so that, with 3 of them down, every new sample is still stored 4 times. "
        "Write at most 2, or add vmstorage nodes."]


@pytest.mark.parametrize("factor", [0, "0", "two", True, -1, 1.5])
def test_a_replication_factor_that_is_no_whole_number_is_refused(factor: object) -> None:
    findings = topology.cluster_findings("q1", THREE_NODES, factor, "vmselect_replication_factor")
    assert findings == [f"q1: vmselect_replication_factor is {factor!r}; write a whole number from 1 to 2."]


def test_vminsert_without_vmstorage_is_refused() -> None:
    findings = topology.cluster_findings("i1", {"vminsert": ["i1"]}, 1, "vminsert_replication_factor")
    assert len(findings) == 1 and "no vmstorage group" in findings[0]


def test_cluster_components_are_scraped_on_their_http_port_only() -> None:
    config = topology.stack_scrape_config(CLUSTER_GROUPS, CLUSTER_HOSTVARS)
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert jobs["vmstorage"] == ["10.0.0.1:8482", "[fe80::2%25eth0]:8482"]
    assert jobs["vminsert"] == ["10.0.1.1:8480", "10.0.1.2:9480"]
    assert jobs["vmselect"] == ["q1.example:9481"]


SHARDS = {**THREE_NODES, "vmselect": ["q1", "q2"], "vmagent": ["agent-b", "agent-a"]}


def test_without_sharding_nothing_is_asked() -> None:
    assert topology.shard_findings("elsewhere", SHARDS, {}, False, 1) == []


def test_shard_replication_without_sharding_is_refused() -> None:
    findings = topology.shard_findings("agent-a", SHARDS, {}, False, 2)
    assert len(findings) == 1 and "vmagent_sharding is off" in findings[0]


def test_a_shard_outside_the_vmagent_group_is_refused() -> None:
    findings = topology.shard_findings("stray", SHARDS, {}, True, 1)
    assert len(findings) == 1 and findings[0].startswith("stray: vmagent_sharding is on but the host is not in the vmagent group")


@pytest.mark.parametrize("replication", [0, 3, "two", True])
def test_a_shard_replication_outside_the_group_size_is_refused(replication: object) -> None:
    assert topology.shard_findings("agent-a", SHARDS, {}, True, replication) == [
        f"agent-a: vmagent_shard_replication is {replication!r}; write a whole number from 1 to 2 (the vmagent group's size)."]


def test_replicated_shards_need_dedup_on_every_cluster_node() -> None:
    dedup = {"vmstorage_dedup_min_scrape_interval": "30s", "vmselect_extra_flags": {"dedup.minScrapeInterval": "30s"}}
    hostvars = {"s1": dedup, "s2": dedup, "s3": {}, "q1": dedup, "q2": {"vmselect_extra_flags": {"search.latencyOffset": "1s"}}}
    findings = topology.shard_findings("agent-a", SHARDS, hostvars, True, "2")
    assert len(findings) == 1
    assert "vmstorage_dedup_min_scrape_interval on s3, dedup.minScrapeInterval in vmselect_extra_flags on q2." in findings[0]
    assert "on s1" not in findings[0] and "on q1" not in findings[0]
    hostvars.update(s3=dedup, q2=dedup)
    assert topology.shard_findings("agent-a", SHARDS, hostvars, True, 2) == []


def test_replicated_shards_need_dedup_on_single_node_storage() -> None:
    groups = {"victoria_metrics": ["vm1"], "vmagent": ["a1", "a2"]}
    findings = topology.shard_findings("a1", groups, {"vm1": {"victoria_metrics_dedup_min_scrape_interval": ""}}, True, 2)
    assert len(findings) == 1 and "victoria_metrics_dedup_min_scrape_interval on vm1" in findings[0]
    assert topology.shard_findings("a1", groups, {"vm1": {"victoria_metrics_dedup_min_scrape_interval": "15s"}}, True, 2) == []
