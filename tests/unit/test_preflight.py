# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The checks that run on the controller before any host changes (issue 10, items 1, 3, 8, 9)."""

from __future__ import annotations

import pytest

from ansible_collections.vmstack.monitoring.plugins.module_utils import ports
from ansible_collections.vmstack.monitoring.plugins.plugin_utils import addresses, preflight, topology

VMAGENT = {
    "name": "vmagent",
    "group": "vmagent",
    "directories": [
        {"path": "/etc/vmagent"},
        {"path": "/var/lib/vmagent-queue", "owner": "vmagent", "mode": "0700", "variable": "vmagent_queue_path"},
    ],
    "read_write_paths": ["/var/lib/vmagent-queue"],
}


@pytest.mark.parametrize("path", ["/", "/var", "/var/lib", "/etc", "/usr", "/home", "/tmp", "/opt", "/srv", "/run",
                                  "/var/log", "/usr/local/bin", "/proc/sys", "/dev/shm"])
def test_system_directories_are_refused(path: str) -> None:
    [finding] = preflight.own_directory_findings("h1", preflight.directory_claims(
        "alertmanager", [{"path": path, "variable": "alertmanager_data_path"}]))
    assert finding.startswith(f"h1: alertmanager_data_path {path!r} is a system directory")
    assert "/var/lib/<service>" in finding


@pytest.mark.parametrize(("path", "says"), [("var/lib/x", "not an absolute path"), ("/var/lib/x/", "'/var/lib/x'"),
                                            ("/var/lib/../lib", "'/var/lib'"), ("//var/lib/x", "plain form")])
def test_relative_and_unnormalised_paths_are_refused(path: str, says: str) -> None:
    [finding] = preflight.own_directory_findings("h1", preflight.directory_claims(
        "vmagent", [{"path": path, "variable": "vmagent_queue_path"}]))
    assert "vmagent_queue_path" in finding and says in finding


def test_a_directory_of_its_own_below_a_system_directory_is_fine() -> None:
    assert preflight.service_findings("h1", "vmagent", {}, VMAGENT) == []


def test_write_access_is_limited_to_the_services_own_directories() -> None:
    service = dict(VMAGENT, read_write_paths=["/var/lib/vmagent-queue", "/var/lib"])
    [finding] = preflight.service_findings("h1", "vmagent", {}, service)
    assert finding.startswith("h1: vmagent would be allowed to write to '/var/lib'")


def test_two_components_may_not_share_or_nest_directories() -> None:
    directories = {
        "victoria_metrics": [{"path": "/var/lib/victoria-metrics", "variable": "victoria_metrics_data_path"}],
        "vmagent": [{"path": "/var/lib/victoria-metrics/queue", "variable": "vmagent_queue_path"},
                    {"path": "/etc/vmagent"}, {"path": "/etc/vmagent/file_sd", "variable": "vmagent_file_sd_dir"}],
        "alertmanager": [{"path": "/etc/vmagent", "variable": ""}],
    }
    findings = preflight.host_overlap_findings("h1", directories)
    assert len(findings) == 3, findings
    assert findings[0].startswith("h1: vmagent's /var/lib/victoria-metrics/queue (vmagent_queue_path) and "
                                  "victoria_metrics's /var/lib/victoria-metrics (victoria_metrics_data_path) overlap")
    assert "alertmanager's /etc/vmagent (fixed by the role)" in findings[1]
    assert "change vmagent_file_sd_dir" in findings[2]


def _stat(exists: bool, owner: str = "root", group: str = "root", isdir: bool = True) -> dict:
    return {"stat": {"exists": exists, "pw_name": owner, "gr_name": group, "isdir": isdir}}


def test_an_existing_directory_with_another_owner_is_not_taken_over() -> None:
    stats = [_stat(True, "root", "root"), _stat(True, "root", "root")]
    [finding] = preflight.existing_directory_findings("h1", VMAGENT, stats)
    assert finding.startswith("h1: vmagent_queue_path '/var/lib/vmagent-queue' already exists and belongs to root:root")
    assert "chown it to vmagent:vmagent" in finding


def test_a_directory_created_on_an_earlier_run_or_missing_is_fine() -> None:
    assert preflight.existing_directory_findings("h1", VMAGENT, [_stat(False), _stat(True, "vmagent", "vmagent")]) == []
    assert preflight.existing_directory_findings("h1", VMAGENT, [_stat(False), _stat(False)]) == []
    [finding] = preflight.existing_directory_findings("h1", VMAGENT, [_stat(False), _stat(True, "vmagent", "vmagent", False)])
    assert "is not a directory" in finding


@pytest.mark.parametrize("value", ["abc", 0, 65536, -1, True, "80a", None, 8.5])
def test_ports_name_variable_host_and_range(value: object) -> None:
    [finding] = preflight.setting_findings("h1", {"ports": {"victoria_metrics_port": value}})
    assert finding == f"h1: victoria_metrics_port is {value!r}; write a port number from 1 to 65535."


@pytest.mark.parametrize("value", [8428, "8428", 1, 65535])
def test_good_ports_pass(value: object) -> None:
    assert preflight.setting_findings("h1", {"ports": {"victoria_metrics_port": value}}) == []


@pytest.mark.parametrize(("value", "good"), [("30s", True), ("1m30s", True), ("1.5h", True), ("500ms", True), ("0", True),
                                             ("", True), ("abc", False), ("1d", False), ("30", False), ("1m 30s", False)])
def test_go_durations(value: str, good: bool) -> None:
    findings = preflight.setting_findings("h1", {"go_durations": {"vmalert_evaluation_interval": value}})
    assert (findings == []) is good
    if not good:
        assert findings[0].startswith(f"h1: vmalert_evaluation_interval is {value!r}; write a duration")


# The role's own release data (roles/victoria_metrics/vars/main.yml), per version.
def vm_release(version: str) -> dict[str, object]:
    return {"variable": "victoria_metrics_version", "version": version, "since": {"retention_months_suffix": "1.150.0"}}


# Each verdict is what the real victoria-metrics binary of that release did
# with -retentionPeriod=VALUE at startup (1.79.5, 1.112.0 and 1.150.0 tried).
@pytest.mark.parametrize("version", ["1.79.5", "1.112.0", "1.150.0"])
@pytest.mark.parametrize(("value", "good"), [("1", True), (12, True), ("1.5", True), ("30d", True), ("1.5d", True),
                                             ("24h", True), ("86400s", True), ("2w", True), ("1y", True),
                                             ("1m", False), ("1h", False), ("abc", False), ("1x", False), ("", False)])
def test_retention_as_every_supported_release_reads_it(version: str, value: object, good: bool) -> None:
    findings = preflight.setting_findings("h1", {"release": vm_release(version),
                                                 "retention": {"victoria_metrics_retention_period": value}})
    assert (findings == []) is good, findings
    if not good:
        assert findings[0].startswith(f"h1: victoria_metrics_retention_period is {value!r}; ")


@pytest.mark.parametrize(("version", "good"), [("1.79.5", False), ("1.112.0", False), ("1.150.0", True), ("1.151.0", True)])
def test_the_months_suffix_follows_the_deployed_release(version: str, good: bool) -> None:
    findings = preflight.setting_findings("h1", {"release": vm_release(version),
                                                 "retention": {"victoria_metrics_retention_period": "3M"}})
    assert (findings == []) is good
    if not good:
        assert findings == [f"h1: victoria_metrics_retention_period is '3M'; VictoriaMetrics {version} "
                            f"(victoria_metrics_version) takes months as a bare number: write 3 "
                            f"(the M suffix needs 1.150.0 or later)."]


@pytest.mark.parametrize(("version", "suggested"), [("1.79.5", "write months as 1,"), ("1.150.0", "write months as 1M,")])
def test_a_lower_case_m_is_refused_with_the_month_syntax_of_the_release(version: str, suggested: str) -> None:
    [finding] = preflight.setting_findings("h1", {"release": vm_release(version),
                                                  "retention": {"victoria_metrics_retention_period": "6m"}})
    assert "lower-case m" in finding and suggested in finding


def test_retention_shorter_than_a_day_is_refused() -> None:
    [finding] = preflight.setting_findings("h1", {"retention": {"victoria_metrics_retention_period": "12h"}})
    assert "shorter than a day" in finding and "1d" in finding


# roles/node_exporter/vars/main.yml, in part.
NE_RELEASE_DATA = {"collector.softirqs": "1.6.0", "collector.xfrm": "1.8.0", "collector.swap": "1.10.0"}


@pytest.mark.parametrize(("version", "missing"), [("1.5.0", ["softirqs", "xfrm", "swap"]), ("1.9.0", ["swap"]),
                                                  ("1.11.1", [])])
def test_collectors_the_deployed_node_exporter_lacks_are_named(version: str, missing: list[str]) -> None:
    release = {"variable": "node_exporter_version", "version": version, "since": NE_RELEASE_DATA}
    enabled = ["systemd", "softirqs", "xfrm"]
    findings = preflight.setting_findings("h1", {"release": release, "collectors": {
        "node_exporter_enabled_collectors": enabled, "node_exporter_disabled_collectors": ["wifi", "swap"]}})
    assert [finding.split("'")[1] for finding in findings] == missing
    if missing:
        since = NE_RELEASE_DATA[f"collector.{missing[0]}"]
        variable = "node_exporter_enabled_collectors" if missing[0] in enabled else "node_exporter_disabled_collectors"
        assert findings[0] == (f"h1: {variable} names the collector {missing[0]!r}, which "
                               f"node_exporter {version} (node_exporter_version) does not have (it came in {since}): "
                               f"remove it, or set node_exporter_version to {since} or later.")


def test_without_release_data_nothing_is_version_dependent() -> None:
    assert preflight.setting_findings("h1", {"retention": {"victoria_metrics_retention_period": "3M"},
                                             "collectors": {"node_exporter_enabled_collectors": ["swap"]}}) == []


@pytest.mark.parametrize(("value", "good"), [(60, True), ("5", True), (0, False), ("soon", False), (-1, False)])
def test_seconds(value: object, good: bool) -> None:
    assert (preflight.setting_findings("h1", {"seconds": {"vmagent_health_timeout": value}}) == []) is good


def test_line_breaks_are_found_where_they_are_without_the_value() -> None:
    settings = {"single_line": {"vmagent_extra_flags": {"a": "ok", "b": ["x", "secret\nvalue"]},
                                "vmagent_listen_address": "::1\r"}}
    findings = preflight.setting_findings("h1", settings)
    assert findings[0].startswith("h1: vmagent_extra_flags['b'][1] contains a line break")
    assert findings[1].startswith("h1: vmagent_listen_address contains a line break")
    assert not any("secret" in finding for finding in findings)


def test_failed_messages_collect_loops_and_skip_the_rest() -> None:
    results = [{"failed": False}, {"skipped": True}, {"failed": True, "msg": "one "},
               {"results": [{"failed": True, "msg": "two"}, {"failed": False}]}, "", {"failed": True, "msg": "one"}]
    assert preflight.failed_messages(results, "h1") == ["h1: one", "h1: two"]


def test_failed_messages_unwrap_filter_errors_and_keep_the_host_they_name() -> None:
    wrapped = ("Task failed: Finalization of task args for 'ansible.builtin.assert' failed: Error while resolving value "
               "for 'fail_msg': The filter plugin 'vmstack.monitoring.component_urls' failed: vm1: victoria_metrics_port "
               "is 'abc'; write a port number from 1 to 65535.")
    assert preflight.failed_messages([{"failed": True, "msg": wrapped}], "h2", ["vm1", "h2"]) == [
        "vm1: victoria_metrics_port is 'abc'; write a port number from 1 to 65535."]


def test_port_variables_that_are_no_ports_are_named_per_host() -> None:
    findings = topology.port_findings("h1", {"victoria_metrics_port": "abc", "vmagent_port": 9100},
                                      ["victoria_metrics", "vmagent", "node_exporter"])
    assert findings[0] == "h1: victoria_metrics_port is 'abc'; write a port number from 1 to 65535."
    assert "9100" in findings[1] and "node_exporter" in findings[1]
    with pytest.raises(ValueError, match=r"^vm1: victoria_metrics_port is 'abc'; write a port number"):
        topology.component_urls({"victoria_metrics": ["vm1"]}, {"vm1": {"victoria_metrics_port": "abc"}}, "victoria_metrics")


@pytest.mark.parametrize(("host", "expected"), [("fe80::1%eth0", "[fe80::1%25eth0]:8428"), ("[fe80::1%eth0]", "[fe80::1%25eth0]:8428"),
                                                ("fe80::1%25eth0", "[fe80::1%25eth0]:8428"), ("::1", "[::1]:8428"),
                                                ("10.0.0.1", "10.0.0.1:8428"), ("vm.example", "vm.example:8428")])
def test_zones_are_escaped_in_urls(host: str, expected: str) -> None:
    assert addresses.url_host_port(host, 8428) == expected


def test_zones_stay_raw_where_the_binary_wants_an_address() -> None:
    groups = {"alertmanager": ["am1"], "victoria_metrics": ["am1"], "promoter": ["am1"]}
    hostvars = {"am1": {"vmstack_address": "fe80::1%eth0"}}
    assert addresses.join_host_port("fe80::1%eth0", 9093) == "[fe80::1%eth0]:9093"
    assert topology.component_endpoints(groups, hostvars, "alertmanager", "cluster") == ["[fe80::1%eth0]:9094"]
    assert topology.component_urls(groups, hostvars, "victoria_metrics", "/api/v1/write") == [
        "http://[fe80::1%25eth0]:8428/api/v1/write"]
    assert topology.host_component_urls("am1", hostvars["am1"], ["alertmanager"]) == {"alertmanager": "http://[fe80::1%25eth0]:9093/"}
    targets = topology.stack_scrape_config(groups, hostvars)["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == ["[fe80::1%25eth0]:8428"]


def test_promoter_webhooks_escape_the_zone() -> None:
    from ansible_collections.vmstack.monitoring.plugins.plugin_utils import promoter

    url = promoter.promoter_url({"promoter": ["p1"]}, {"p1": {"vmstack_address": "fe80::2%eth1"}}, None, "dingtalk")
    assert url == "http://[fe80::2%25eth1]:8080/dingtalk/send"


ROLES = ("victoria_metrics", "vmagent", "vmalert", "alertmanager", "node_exporter", "promoter", "grafana")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_checks_the_directories_its_service_uses(role: str) -> None:
    """The service and its preflight read the same lists, and nothing is derived from a parent directory."""
    import yaml

    from conftest import REPO_ROOT

    text = (REPO_ROOT / "roles" / role / "vars" / "main.yml").read_text()
    variables = yaml.safe_load(text)
    service, checked = variables[f"__{role}_service"], variables[f"__{role}_preflight"]
    assert service["directories"] == checked["directories"] == f"{{{{ __{role}_directories }}}}"
    assert service.get("read_write_paths", []) == checked["read_write_paths"]
    assert "dirname" not in text
    preflight_tasks = (REPO_ROOT / "roles" / role / "tasks" / "preflight.yml").read_text()
    assert f'common_preflight: "{{{{ __{role}_preflight }}}}"' in preflight_tasks


def test_vmagent_owns_and_writes_only_its_queue() -> None:
    import yaml

    from conftest import REPO_ROOT

    variables = yaml.safe_load((REPO_ROOT / "roles" / "vmagent" / "vars" / "main.yml").read_text())
    queue = [item for item in variables["__vmagent_directories"] if item["path"] == "{{ vmagent_queue_path }}"]
    assert queue == [{"path": "{{ vmagent_queue_path }}", "owner": "vmagent", "mode": "0700", "variable": "vmagent_queue_path"}]
    assert variables["__vmagent_read_write_paths"] == ["{{ vmagent_queue_path }}"]


# --- one source of truth for ports and flags (issue 11) ---------------------------------


def _role_yaml(role: str, kind: str) -> dict:
    import yaml

    from conftest import REPO_ROOT

    path = REPO_ROOT / "roles" / role / kind / "main.yml"
    return yaml.safe_load(path.read_text()) if path.exists() else {}


def test_every_roles_default_port_is_the_registrys() -> None:
    """Each named port of each component that has a role: its default is the registry's, and nothing else is a port."""
    from conftest import REPO_ROOT

    roles = sorted(path.name for path in (REPO_ROOT / "roles").iterdir() if (path / "defaults" / "main.yml").exists())
    checked = []
    for role in roles:
        defaults = _role_yaml(role, "defaults")
        expected = {topology.port_variable(role, name): spec.default for name, spec in ports.COMPONENT_PORTS.get(role, {}).items()}
        found = {variable: value for variable, value in defaults.items() if variable.endswith("_port")}
        assert found == expected, f"roles/{role}/defaults/main.yml and the port registry (ports.py) differ"
        checked.extend(expected)
    assert "alertmanager_cluster_port" in checked and "victoria_metrics_port" in checked


def test_a_port_set_only_in_the_play_is_refused_and_says_where_to_set_it() -> None:
    [finding] = preflight.port_agreement_findings("h1", "victoria_metrics", {"victoria_metrics_port": 9999}, {})
    assert finding.startswith("h1: victoria_metrics_port must be the port every URL pointing at victoria_metrics")
    # The words the promoter scenario (molecule/promoter, port_in_play.yml) expects since promoter had its own check.
    assert "the inventory gives this host 8428, this play 9999." in finding
    assert "Set victoria_metrics_port in the inventory (host_vars or group_vars) or as an extra var" in finding


def test_ports_that_agree_with_the_inventory_pass() -> None:
    assert preflight.port_agreement_findings("h1", "victoria_metrics", {"victoria_metrics_port": "8428"}, {}) == []
    assert preflight.port_agreement_findings(
        "h1", "alertmanager", {"alertmanager_port": 9193, "alertmanager_cluster_port": 9094},
        {"alertmanager_port": "9193"}) == []


def test_every_named_port_is_compared() -> None:
    [finding] = preflight.port_agreement_findings(
        "h1", "alertmanager", {"alertmanager_port": 9093, "alertmanager_cluster_port": 9095}, {})
    assert finding.startswith("h1: alertmanager_cluster_port must") and "gives this host 9094, this play 9095" in finding


def test_ports_that_are_no_ports_are_left_to_their_own_finding() -> None:
    assert preflight.port_agreement_findings("h1", "alertmanager", {"alertmanager_port": "abc"}, {}) == []
    assert preflight.port_agreement_findings("h1", "alertmanager", {"alertmanager_port": 9093},
                                             {"alertmanager_port": "abc"}) == []


def test_the_port_check_applies_to_hosts_of_the_components_group_only() -> None:
    settings = {"ports": {"vmagent_port": 9429}}
    service = {"name": "vmagent", "directories": []}
    in_group = preflight.service_findings("h1", "vmagent", settings, service, {}, ["vmagent", "all"])
    assert [finding for finding in in_group if "vmagent_port must" in finding and "this play 9429" in finding]
    assert preflight.service_findings("h1", "vmagent", settings, service, {}, ["other"]) == []
    assert preflight.service_findings("h1", "vmagent", settings, service) == []


def test_extra_flags_may_not_set_what_the_role_manages() -> None:
    service = {
        "name": "victoria_metrics", "directories": [],
        "extra_flags": {"httpListenAddr": ":9999", "search.latencyOffset": "2s"},
        "managed_flags": {"httpListenAddr": "victoria_metrics_listen_address and victoria_metrics_port"},
    }
    assert preflight.service_findings("h1", "victoria_metrics", {}, service) == [
        "h1: victoria_metrics_extra_flags sets 'httpListenAddr', which the victoria_metrics role sets itself: "
        "remove it from victoria_metrics_extra_flags and set victoria_metrics_listen_address and "
        "victoria_metrics_port instead."
    ]


CLUSTER_ROLES = ("vmstorage", "vminsert", "vmselect", "vmauth")


@pytest.mark.parametrize("role", [role for role in ROLES + CLUSTER_ROLES if role != "grafana"])
def test_each_role_names_the_variable_of_every_flag_it_manages(role: str) -> None:
    """__<role>_managed_flags covers exactly __<role>_flags, names only the role's variables, and reaches the preflight."""
    variables = _role_yaml(role, "vars")
    defaults = _role_yaml(role, "defaults")
    managed = variables[f"__{role}_managed_flags"]
    assert sorted(managed) == sorted(variables[f"__{role}_flags"])
    named = {word.strip(",") for text in managed.values() for word in text.split() if word.startswith(f"{role}_")}
    assert named and named <= set(defaults), named - set(defaults)
    assert variables[f"__{role}_preflight"]["managed_flags"] == f"{{{{ __{role}_managed_flags }}}}"
    assert variables[f"__{role}_preflight"]["extra_flags"] == f"{{{{ {role}_extra_flags }}}}"


@pytest.mark.parametrize("role", ROLES + CLUSTER_ROLES)
def test_each_role_tells_the_preflight_its_name(role: str) -> None:
    assert _role_yaml(role, "vars")[f"__{role}_preflight"]["role"] == role


def test_the_role_not_the_service_name_picks_ports_group_and_variables() -> None:
    service = {"name": "victoria-metrics", "role": "victoria_metrics", "directories": [],
               "extra_flags": {"storageDataPath": "/x"}, "managed_flags": {"storageDataPath": "victoria_metrics_data_path"}}
    findings = preflight.service_findings("h1", "victoria-metrics", {"ports": {"victoria_metrics_port": 9999}}, service,
                                          {}, ["victoria_metrics"])
    assert [finding.split(" must ")[0].split(" sets ")[0] for finding in findings] == [
        "h1: victoria_metrics_port", "h1: victoria_metrics_extra_flags"]


# roles/victoria_metrics/vars/main.yml: mincore(2) since 1.131.0, backported to two LTS lines.
MINCORE = {"syscall_mincore": {"since": "1.131.0", "lts": {"1.110": "1.110.25", "1.122": "1.122.10"}}}


@pytest.mark.parametrize(("version", "has"), [("1.79.5", False), ("1.112.0", False), ("1.110.24", False),
                                              ("1.110.25", True), ("1.122.9", False), ("1.122.10", True),
                                              ("1.130.0", False), ("1.131.0", True), ("1.150.0", True)])
def test_release_has_follows_mainline_and_long_term_support_lines(version: str, has: bool) -> None:
    release = {"variable": "victoria_metrics_version", "version": version, "since": MINCORE}
    assert preflight.release_has(release, "syscall_mincore") is has


def test_release_has_nothing_it_has_no_data_for() -> None:
    assert preflight.release_has({"variable": "v", "version": "9.9.9", "since": MINCORE}, "unknown") is False
