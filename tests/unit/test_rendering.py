# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Flag quoting for systemd units, environment files, addresses and checksum lists."""

from __future__ import annotations

import pytest

from ansible_collections.vmstack.monitoring.plugins.module_utils import ports
from ansible_collections.vmstack.monitoring.plugins.plugin_utils import addresses, archives, systemd_args


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("", 8428, ":8428"),
        ("127.0.0.1", 8428, "127.0.0.1:8428"),
        ("vm.example", "9100", "vm.example:9100"),
        ("::1", 9093, "[::1]:9093"),
        ("[::1]", 9093, "[::1]:9093"),
        ("fe80::1%eth0", 80, "[fe80::1%eth0]:80"),
    ],
)
def test_join_host_port_matches_go(host: str, port: int, expected: str) -> None:
    assert addresses.join_host_port(host, port) == expected


def test_exec_arguments_cannot_be_split_or_expanded() -> None:
    lines = systemd_args.exec_start_lines("/usr/local/bin/vm", {"a": 'x y"; rm -rf / $HOME %n \\'})
    assert lines[1] == '"-a=x y\\"; rm -rf / $$HOME %%n \\\\"'


def test_flags_are_sorted_repeated_and_omitted() -> None:
    args = systemd_args.flag_arguments({"z": 1, "a": [1, 2], "gone": None, "empty": "", "b": True})
    assert args == ["-a=1", "-a=2", "-b=true", "-z=1"]


def test_double_dash_booleans_are_switches() -> None:
    args = systemd_args.flag_arguments({"collector.systemd": True, "collector.wifi": False}, prefix="--")
    assert args == ["--collector.systemd", "--no-collector.wifi"]


@pytest.mark.parametrize("name", ["", "-x", "a b", "a=b", "a;b"])
def test_bad_flag_names_are_refused(name: str) -> None:
    with pytest.raises(systemd_args.FlagError):
        systemd_args.flag_arguments({name: "1"})


def test_line_breaks_in_values_are_refused() -> None:
    with pytest.raises(systemd_args.FlagError):
        systemd_args.flag_arguments({"a": "1\nExecStartPre=/bin/sh"})


def test_environment_file_quotes_values() -> None:
    assert systemd_args.environment_file({"B": 'p"w #1', "A": "x"}) == 'A="x"\nB="p\\"w #1"\n'


def test_envflag_names_follow_victoriametrics() -> None:
    assert systemd_args.envflag_variables({"httpAuth.password": "s"}) == {"httpAuth_password": "s"}


def test_sha256_is_found_in_both_upstream_formats() -> None:
    digest = "a" * 64
    vm_list = f"{digest}  victoria-metrics-linux-amd64-v1.79.5.tar.gz\n{'b' * 64}  victoria-metrics-prod\n"
    prom_list = f"{'c' * 64}  alertmanager-0.25.0.darwin-amd64.tar.gz\n{digest} *alertmanager-0.25.0.linux-amd64.tar.gz\n"
    assert archives.sha256_for(vm_list, "victoria-metrics-linux-amd64-v1.79.5.tar.gz") == digest
    assert archives.sha256_for(prom_list, "alertmanager-0.25.0.linux-amd64.tar.gz") == digest


def test_a_bare_hash_file_is_the_archive_checksum() -> None:
    assert archives.sha256_for("A" * 64 + "\n", "grafana-10.4.2.linux-amd64.tar.gz") == "a" * 64


def test_missing_checksum_is_an_error() -> None:
    with pytest.raises(archives.ChecksumError, match="does not name"):
        archives.sha256_for("", "x.tar.gz")


def test_release_arch() -> None:
    assert archives.release_arch("x86_64") == "amd64"
    assert archives.release_arch("aarch64") == "arm64"
    with pytest.raises(archives.ChecksumError):
        archives.release_arch("sparc")


def test_port_conflicts_name_both_components() -> None:
    claims = [
        addresses.PortClaim("h1", "vmagent", "http", 8429),
        addresses.PortClaim("h1", "promoter", "http", 8429),
        addresses.PortClaim("h2", "vmagent", "http", 8429),
    ]
    [message] = addresses.find_port_conflicts(claims)
    assert "h1" in message and "vmagent" in message and "promoter" in message


def test_non_metrics_ports_include_gossip() -> None:
    assert 9094 in ports.non_metrics_ports()
    assert 8428 not in ports.non_metrics_ports()


def test_urls_come_from_inventory_and_registry() -> None:
    from ansible_collections.vmstack.monitoring.plugins.plugin_utils import topology

    groups = {"alertmanager": ["am1", "am2"], "node_exporter": ["am1", "db"]}
    hostvars = {"am1": {"ansible_host": "10.0.0.1"}, "am2": {"alertmanager_port": 9193, "vmstack_address": "::1"}, "db": {}}
    assert topology.component_urls(groups, hostvars, "alertmanager") == ["http://10.0.0.1:9093", "http://[::1]:9193"]
    assert topology.component_endpoints(groups, hostvars, "alertmanager", "cluster") == ["10.0.0.1:9094", "[::1]:9094"]
    config = topology.stack_scrape_config(groups, hostvars)
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert jobs == {"alertmanager": ["10.0.0.1:9093", "[::1]:9193"], "node_exporter": ["10.0.0.1:9100", "db:9100"]}
    reordered = topology.stack_scrape_config({"node_exporter": ["db", "am1"]}, hostvars)
    assert reordered["scrape_configs"][0]["static_configs"][0]["targets"] == ["10.0.0.1:9100", "db:9100"]
    assert topology.stack_scrape_config({}, {}) == {}
    assert config["global"] == {"scrape_interval": "30s"}
    assert topology.stack_scrape_config(groups, hostvars, "5s")["global"] == {"scrape_interval": "5s", "scrape_timeout": "5s"}


def test_port_claims_find_conflicts_on_one_host() -> None:
    from ansible_collections.vmstack.monitoring.plugins.plugin_utils import topology

    claims = topology.port_claims("h", {"vmagent_port": 9100}, ["vmagent", "node_exporter"])
    [message] = addresses.find_port_conflicts(claims)
    assert "node_exporter" in message and "vmagent" in message and "9100" in message


@pytest.mark.parametrize(
    ("listen", "expected"),
    [("", "127.0.0.1:80"), ("0.0.0.0", "127.0.0.1:80"), ("::", "[::1]:80"), ("10.1.2.3", "10.1.2.3:80"), ("fd00::1", "[fd00::1]:80")],
)
def test_probe_address_reaches_wildcards_on_loopback(listen: str, expected: str) -> None:
    assert addresses.probe_address(listen, 80) == expected
